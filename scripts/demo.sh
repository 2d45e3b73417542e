#!/usr/bin/env bash
# The main job on the embedded default, at small scale: `toolforge run datasets/smol-tools.yaml`
# (generate -> validate -> dedup -> export) with the packaged SmolLM2-135M teacher running in-process
# through llama.cpp. SmolLM2 is a smoke-test teacher: the structure is right under its grammar, the
# content is weak; real data needs a real teacher (DEMO_TEACHER=openai:MODEL@URL).
#   DEMO_N        records in all, split by the recipe's scenario mix (default 7: one per scenario)
#   DEMO_TEACHER  teacher spec overriding the recipe's
# Output: demo-out/demo.duckdb (the store) and demo-out/export/ (openai, trl, hermes files).
set -euo pipefail
cd "$(dirname "$0")/.."
TF=.venv/bin/toolforge
OUT=demo-out
DB=$OUT/demo.duckdb
mkdir -p "$OUT"
rm -rf "$DB" "$DB.wal" "$OUT/export"
args=(run datasets/smol-tools.yaml --count "${DEMO_N:-7}" --db "$DB" --out "$OUT/export")
[ -n "${DEMO_TEACHER:-}" ] && args+=(--teacher "$DEMO_TEACHER")
echo "[demo] toolforge ${args[*]} (a few minutes on 2 CPU cores)" >&2
$TF "${args[@]}"
$TF list --db "$DB"
echo "[demo] store: $DB; exports: $OUT/export/" >&2
