#!/usr/bin/env bash
# The HTTP server for the data-staging tests (services/http_server.py): up | down.
# Tests put files under ROOT and fetch them from URL, or HTTPS_URL (a self-signed
# certificate, CA_FILE); http_server.py lists the fault routes.
source "$(dirname "$0")/_lib.sh"
source "$SERVICES_DIR/_daemon.sh"

ROOT="$RUN_DIR/http-root"
case "${1:-}" in
  up)
    apt_install openssl
    mkdir -p "$ROOT"
    CERT="$RUN_DIR/http-cert.pem" KEY="$RUN_DIR/http-key.pem"
    [ -f "$CERT" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$KEY" -out "$CERT" \
      2>/dev/null
    daemon_up http http_server.py --root "$ROOT" --tls-cert "$CERT" --tls-key "$KEY"
    read -r HTTP_PORT HTTPS_PORT <<< "$PORT"
    write_env http "URL=http://127.0.0.1:$HTTP_PORT" "HTTPS_URL=https://127.0.0.1:$HTTPS_PORT" \
      "ROOT=$ROOT" "CA_FILE=$CERT"
    ;;
  down) daemon_down http ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
