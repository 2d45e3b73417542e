#!/usr/bin/env bash
# The main job on the embedded default, at small scale. Output goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
TF=.venv/bin/toolforge
mkdir -p demo-out
DB=demo-out/demo.duckdb
$TF import examples/sample.jsonl --db "$DB"
$TF list --db "$DB"
