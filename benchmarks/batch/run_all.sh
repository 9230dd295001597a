#!/usr/bin/env bash
# Every batch benchmark, plait and Parsl alternated run by run in one session, into one JSONL:
#   bash benchmarks/batch/run_all.sh [OUT.jsonl]     (~10 min; services up: make services-up)
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-benchmarks/batch/results-$(date -u +%F).jsonl}
PLAIT=.venv/bin/python PARSL=/work/venvs/parsl/bin/python B=benchmarks/batch
stamp() { echo "{\"$1\": \"$(date -u +%FT%TZ)\", \"uptime\": \"$(uptime)\"}" >> "$OUT"; }
first() { "$1" $B/first_result.py "${@:2}" --runs 1 | sed -n 1p >> "$OUT"; }
stamp session_start
for args in "slurm" "slurm --nodes 2" "gridengine"; do
  for _ in 1 2 3; do
    # shellcheck disable=SC2086
    first $PLAIT plait $args; first $PARSL parsl $args
  done
done
$PLAIT $B/status_poll.py >> "$OUT"
for fault in scancel walltime; do
  $PLAIT $B/slurm_faults.py plait $fault >> "$OUT"
  $PARSL $B/slurm_faults.py parsl $fault >> "$OUT"
done
stamp session_end
