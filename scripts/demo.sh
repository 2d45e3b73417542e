#!/usr/bin/env bash
# The main job on the embedded default, at small scale. Output goes to demo-out/.
#   1. generate a few conversations per scenario with the packaged SmolLM2-135M teacher
#      (llama.cpp in-process; a smoke-test teacher: right structure, weak content), validated as they arrive
#   2. list what is stored
# DEMO_N (records per scenario, default 2) and DEMO_TEACHER (e.g. openai:MODEL@URL) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
TF=.venv/bin/toolforge
mkdir -p demo-out
DB=demo-out/demo.duckdb
rm -f "$DB" "$DB.wal"
N=${DEMO_N:-2}
TEACHER=${DEMO_TEACHER:-llamacpp:smollm2}
echo "[demo] generating $N record(s) per scenario with $TEACHER (takes a few minutes on 2 CPU cores)" >&2
$TF generate --teacher "$TEACHER" --n "$N" --catalog camera --seed 7 --max-tokens 400 --max-attempts 4 \
  --run-name demo --db "$DB"
$TF list --db "$DB"
