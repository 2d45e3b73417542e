"""`toolforge export` end to end: every format on a validated store with all seven scenarios."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from toolforge.record import SCENARIOS, Record
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration


@pytest.fixture
def validated_db(run_cli, filled_db):
    run_cli("validate", "--db", filled_db, check=True)
    with open_store(filled_db, read_only=True) as store:
        curated = store.select_ids(Selection(status="curated"))
    assert len(curated) == 8, "the bundled samples should all validate"
    return filled_db


def _export(run_cli, db, fmt, out, *extra):
    proc = run_cli("export", "--db", db, "--format", fmt, "--out", out, "--json", *extra, check=True)
    return json.loads(proc.stdout)


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_openai_format(run_cli, validated_db, tmp_path, sample_records):
    res = _export(run_cli, validated_db, "openai", tmp_path / "oa", "--test-fraction", "0.25", "--seed", "1")
    assert res["splits"]["train"]["n"] + res["splits"]["test"]["n"] == 8
    assert res["splits"]["test"]["n"] == 2
    rows = _lines(tmp_path / "oa" / "train.jsonl") + _lines(tmp_path / "oa" / "test.jsonl")
    assert len(rows) == 8
    again = _export(run_cli, validated_db, "openai", tmp_path / "oa")  # no test split now: the old one goes
    assert again["splits"]["train"]["n"] == 8 and not (tmp_path / "oa" / "test.jsonl").exists()
    n_calls = 0
    for row in rows:
        assert set(row) <= {"messages", "tools", "parallel_tool_calls"}
        assert all(t["type"] == "function" for t in row["tools"])
        for m in row["messages"]:
            for c in m.get("tool_calls") or []:
                assert isinstance(c["function"]["arguments"], str)
                json.loads(c["function"]["arguments"])
                n_calls += 1
    assert n_calls == sum(len(r.calls) for r in sample_records)
    manifest = json.loads((tmp_path / "oa" / "export.json").read_text())
    assert sum(sum(s["scenarios"].values()) for s in manifest["splits"].values()) == 8
    scen = Counter()
    for s in manifest["splits"].values():
        scen.update(s["scenarios"])
    assert set(scen) == set(SCENARIOS)


def test_sharegpt_and_hermes_formats(run_cli, validated_db, tmp_path, sample_records):
    _export(run_cli, validated_db, "sharegpt", tmp_path / "sg")
    rows = _lines(tmp_path / "sg" / "train.jsonl")
    assert {r["scenario"] for r in rows} == set(SCENARIOS)
    for r in rows:
        assert {t["from"] for t in r["conversations"]} <= {"human", "gpt", "function_call", "observation", "system"}
        json.loads(r["tools"])
    by_id = {r.id: r for r in sample_records}
    _export(run_cli, validated_db, "hermes", tmp_path / "he")
    rows = _lines(tmp_path / "he" / "train.jsonl")
    assert len(rows) == 8
    for r in rows:
        rec = by_id[r["id"]]
        convo = r["text"].split("<|im_start|>user", 1)[1]  # after the system prompt's instructions
        assert convo.count("<tool_call>") == len(rec.calls)
        assert rec.first_user_text in r["text"]


CHAT_TEMPLATE = """\
{%- if tools %}<|system|>You can call these tools:
{% for t in tools %}{{ t | tojson }}
{% endfor %}<|end|>
{% endif %}
{%- for m in messages %}
{%- if m.role == 'assistant' %}<|assistant|>
{%- if m.reasoning_content %}<think>{{ m.reasoning_content }}</think>{% endif %}{{ m.content or '' }}
{%- for c in m.tool_calls or [] %}<call>{"name": {{ c.function.name | tojson }}, "arguments": {{ c.function.arguments | tojson }}}</call>{% endfor %}<|end|>
{% elif m.role == 'tool' %}<|tool|>{{ m.content }}<|end|>
{% else %}<|{{ m.role }}|>{{ m.content }}<|end|>
{% endif %}
{%- endfor %}
{%- if add_generation_prompt %}<|assistant|>{% endif %}"""


def test_trl_format_renders_with_a_chat_template(run_cli, validated_db, tmp_path, sample_records):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    from datasets import load_dataset

    _export(run_cli, validated_db, "trl", tmp_path / "trl", "--test-fraction", "0.25", "--think", "field")
    ds = load_dataset("parquet", data_files={"train": str(tmp_path / "trl" / "train.parquet"),
                                             "test": str(tmp_path / "trl" / "test.parquet")},
                      cache_dir=str(tmp_path / "ds-cache"))
    assert ds["train"].num_rows + ds["test"].num_rows == 8
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
    tok.chat_template = CHAT_TEMPLATE
    by_id = {r.id: r for r in sample_records}
    for split in ("train", "test"):
        for row in ds[split]:
            rec = by_id[row["id"]]
            text = tok.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
            assert text.count("<call>") == len(rec.calls)
            for c in rec.calls:  # arguments survive as JSON objects, with exactly their own keys
                assert json.dumps({"name": c.name, "arguments": c.arguments}) in text
            for t in rec.tools:
                assert json.dumps(t.model_dump(exclude_none=True)) in text
            for m in rec.messages:
                if m.reasoning:
                    assert f"<think>{m.reasoning}</think>" in text
            # The messages column is the record's own messages, reasoning moved to reasoning_content.
            again = Record.model_validate({"tools": row["tools"], "messages": [
                {("reasoning" if k == "reasoning_content" else k): v for k, v in m.items()} for m in row["messages"]]})
            assert again.id == rec.id


def test_splits_keep_near_duplicates_together(run_cli, tmp_path, sample_dicts):
    from toolforge.dedup import clusters

    db = tmp_path / "dups.duckdb"
    lines = []
    for d in sample_dicts:  # each sample plus two near copies (one word changed in the last answer)
        lines.append(d)
        for k in (1, 2):
            c = json.loads(json.dumps(d))
            c["messages"][-1]["content"] = (c["messages"][-1].get("content") or "") + f" (note {k})"
            lines.append(c)
    src = tmp_path / "dups.jsonl"
    src.write_text("".join(json.dumps(x) + "\n" for x in lines))
    run_cli("import", src, "--db", db, check=True)
    run_cli("validate", "--db", db, check=True)
    run_cli("dedup", "--db", db, "--method", "near", "--threshold", "0.7", check=True)
    with open_store(db, read_only=True) as store:
        cl = clusters(store)
    assert len(set(cl.values())) >= 6 and len(cl) >= 18
    for seed in (0, 1):
        res = _export(run_cli, db, "openai", tmp_path / f"s{seed}", "--test-fraction", "0.3", "--seed", str(seed),
                      "--include-duplicates")
        with open_store(db, read_only=True) as store:
            side = dict(store.con.execute("SELECT record_id, split FROM export_splits WHERE run_id = ?",
                                          [res["run_id"]]).fetchall())
        assert len(side) == 24 and 0 < res["splits"]["test"]["n"] < 24
        per_cluster: dict[str, set[str]] = {}
        for rid, split in side.items():
            if rid in cl:
                per_cluster.setdefault(cl[rid], set()).add(split)
        assert all(len(v) == 1 for v in per_cluster.values()), per_cluster
    # Without --include-duplicates the marked copies are left out.
    res = _export(run_cli, db, "openai", tmp_path / "nodup")
    assert res["splits"]["train"]["n"] == 24 - sum(1 for _ in cl) + len(set(cl.values()))


def test_lfm2_audio_format(run_cli, validated_db, tmp_path):
    import soundfile as sf

    run_cli("tts", "--db", validated_db, "--scenario", "single_tool", "--scenario", "no_tool_needed", check=True)
    out = tmp_path / "lfm"
    res = _export(run_cli, validated_db, "lfm2-audio", out, "--scenario", "single_tool",
                  "--scenario", "no_tool_needed", "--tool-markup", "lfm2")
    rows = _lines(out / "train.jsonl")
    assert rows and res["splits"]["train"]["n"] == 3
    for row in rows:
        assert set(row) >= {"audio", "transcript", "response", "response_audio"}
        for key in ("audio", "response_audio"):
            if row.get(key):
                info = sf.info(str(out / row[key]))
                assert info.frames > 0 and info.samplerate > 0


def test_bad_input(run_cli, filled_db, tmp_path):
    proc = run_cli("export", "--db", filled_db, "--format", "csv", "--out", tmp_path / "x")
    assert proc.returncode == 2 and proc.stderr.startswith("error: Invalid value for '--format' / '-f': 'csv' is not one of 'openai', ")
    assert len(proc.stderr.strip().splitlines()) == 2  # the error and its hint
    proc = run_cli("export", "--db", filled_db, "--format", "openai", "--out", tmp_path / "y")  # nothing validated
    assert proc.returncode == 2 and "no records to export" in proc.stderr
    assert not (tmp_path / "y").exists()
    proc = run_cli("export", "--db", filled_db, "--format", "openai", "--out", tmp_path / "z", "--think", "maybe",
                   "--status", "any")
    assert proc.returncode == 2 and "--think" in proc.stderr
