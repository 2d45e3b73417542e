"""`toolforge eval --model` against a real llama.cpp server (loopback) with the packaged SmolLM2.

The figures are poor (a 135M model); what is checked is that the pipeline is real: one
request per scored turn, the raw answers written as a predictions file, parsed with the
family parser and scored into the full table.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

METRICS = ("precision", "recall", "f1", "json_validity", "argument_correctness", "no_tool_accuracy", "exact_match")


def test_eval_model_against_llama_server(run_cli, llama_server, tmp_path, sample_dicts):
    picked = [d for d in sample_dicts if d["scenario"] in ("single_tool", "no_tool_needed", "multi_tool_parallel")]
    refs = tmp_path / "refs.jsonl"
    refs.write_text("".join(json.dumps(d) + "\n" for d in picked))
    out = tmp_path / "eval"
    proc = run_cli("eval", "--model", f"openai:smollm2@{llama_server}", "--references", refs, "--family", "hermes",
                   "--first-turn-only", "--max-tokens", "48", "--concurrency", "2", "--out", out, timeout=600)
    assert proc.returncode == 0, proc.stderr
    # the full table, one row per scenario
    for word in ("overall", "single_tool", "no_tool_needed", "multi_tool_parallel", "precision", "exact match"):
        assert word in proc.stdout
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(preds) == len(picked)
    from toolforge.record import Record

    expected = []
    for d in picked:
        rec = Record.model_validate({k: v for k, v in d.items() if k != "id"})
        first = next(i for i, m in enumerate(rec.messages) if m.role == "assistant")
        expected.append((rec.id, first))
    assert sorted((p["id"], p["turn"]) for p in preds) == sorted(expected)
    assert all("output" in p or "tool_calls" in p for p in preds)
    assert any((p.get("output") or "").strip() or p.get("tool_calls") for p in preds)   # the model answered
    res = json.loads((out / "results.json").read_text())
    assert res["overall"]["counts"]["turns"] == len(picked)
    assert set(METRICS) <= set(res["overall"])
    assert set(res["by_scenario"]) == {"single_tool", "no_tool_needed", "multi_tool_parallel"}
    # scoring the written predictions again gives the same figures
    again = run_cli("eval", "--predictions", out / "predictions.jsonl", "--references", refs, "--family", "hermes",
                    "--first-turn-only", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["overall"] == res["overall"]


def test_bfcl_eval_model_against_llama_server(run_cli, llama_server, tmp_path):
    from tests.integration.test_bfcl_eval import BFCL

    out = tmp_path / "bfcl"
    proc = run_cli("eval", "--bfcl", "--references", BFCL / "BFCL_v4_simple_python.json", "--limit", "3",
                   "--model", f"openai:smollm2@{llama_server}", "--family", "hermes", "--max-tokens", "32",
                   "--out", out, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "simple" in proc.stdout and "accuracy" in proc.stdout
    preds = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert [p["id"] for p in preds] == ["simple_python_0", "simple_python_1", "simple_python_2"]
    res = json.loads((out / "results.json").read_text())
    assert res["by_category"]["simple"]["entries"] == 3
