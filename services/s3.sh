#!/usr/bin/env bash
# An S3-compatible object store for the data-staging tests (moto server mode): up | down.
# Any access key works; tests create their own buckets.
source "$(dirname "$0")/_lib.sh"
source "$SERVICES_DIR/_daemon.sh"

case "${1:-}" in
  up)
    daemon_up s3 s3_server.py
    write_env s3 "ENDPOINT=http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=testing \
      AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1
    ;;
  down) daemon_down s3 ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
