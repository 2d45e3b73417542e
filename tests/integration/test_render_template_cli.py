"""`toolforge render --chat-template` and `toolforge export --chat-template` end to end."""

from __future__ import annotations

import json

import pytest

from tests.unit.chat_template.records import TEMPLATES

pytestmark = pytest.mark.integration

LLAMA31 = TEMPLATES / "meta-llama-Llama-3.1-8B-Instruct.jinja"


def test_render_writes_what_renders_and_reports_the_rest(run_cli, sample_path):
    lines = sample_path.read_text(encoding="utf-8")
    proc = run_cli("render", "--chat-template", LLAMA31, input=lines)
    assert proc.returncode == 1
    refused = [x for x in proc.stderr.splitlines() if "template_raised" in x]
    assert len(refused) == 1 and "single tool-calls" in refused[0]
    assert proc.stdout.count("<|start_header_id|>system") == 7  # the other seven records are written
    assert "<|begin_of_text|>" not in proc.stdout  # a bare .jinja file brings no special tokens...
    bos = run_cli("render", "--chat-template", LLAMA31, "--var", "bos_token=<|begin_of_text|>", input=lines)
    assert bos.stdout.count("<|begin_of_text|>") == 7  # ...unless given
    single = lines.splitlines()[0]
    ok = run_cli("render", "--chat-template", LLAMA31, "--generation-prompt", input=single)
    assert ok.returncode == 0 and ok.stdout.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
    as_json = run_cli("render", "--chat-template", LLAMA31, "--json", input=lines)
    rows = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and len(rows) == 8 and sum(r["ok"] for r in rows) == 7
    bad = next(r for r in rows if not r["ok"])
    assert bad["text"] is None and bad["issues"][0]["code"] == "template_raised"


def test_render_input_errors_are_one_line(run_cli, tmp_path, sample_path):
    one = sample_path.read_text().splitlines()[0]
    for args, needle in ((("--chat-template", tmp_path / "none.jinja"), "does not exist"),
                         (("--family", "hermes", "--chat-template", LLAMA31), "either --family or --chat-template"),
                         (("--chat-template", LLAMA31, "--var", "x"), "KEY=VALUE")):
        proc = run_cli("render", *args, input=one)
        assert proc.returncode == 2 and proc.stderr.startswith("error: ") and needle in proc.stderr
        assert "Traceback" not in proc.stderr
    proc = run_cli("render", "--chat-template", LLAMA31, input="not json\n")
    assert proc.returncode == 2 and "line 1" in proc.stderr


def test_export_keeps_only_records_the_template_can_render(run_cli, filled_db, tmp_path):
    out = tmp_path / "oa"
    proc = run_cli("export", "--db", filled_db, "--format", "openai", "--out", out, "--status", "any",
                   "--chat-template", LLAMA31, "--json", check=True)
    result = json.loads(proc.stdout)
    assert result["excluded"] == {"template_raised": 1} and result["splits"]["train"]["n"] == 7
    rows = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 7 and not any(r.get("parallel_tool_calls") for r in rows)
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["chat_template"]["excluded"] == {"template_raised": 1}
