from __future__ import annotations

from huggingface_hub import DatasetCard

from toolforge.export.splits import split_records
from toolforge.hub.card import build_card, size_category
from toolforge.store import Selection, open_store


class _Issue:
    code, path, message, severity = "bad", "messages", "broken", "error"


def test_card_metadata_and_numbers(filled_db, sample_records):
    with open_store(filled_db) as store:
        bad = sample_records[0]
        store.replace_issues("schema", [(r.id, [_Issue()] if r.id == bad.id else []) for r in sample_records])
        dup = sample_records[1]
        store.con.execute("INSERT INTO dedup_marks (record_id, method, cluster_id, kept_id) VALUES (?, 'exact', 'c1', ?)",
                          [dup.id, sample_records[2].id])
        store.con.execute("INSERT INTO review_verdicts (record_id, verdict) VALUES (?, 'accept'), (?, 'reject')",
                          [sample_records[2].id, sample_records[3].id])
        records = list(store.iter_records(Selection(status="curated")))
        assert [r.id for r in records] == [sample_records[2].id]
        splits = split_records(records, test_fraction=0.0)
        text = build_card(store, splits, repo_id="me/tools", license="mit", language=["en", "fr"],
                          selection=Selection(status="curated"))
    card = DatasetCard(text)
    assert card.data.license == "mit" and card.data.language == ["en", "fr"]
    assert card.data.size_categories == ["n<1K"]
    scen = sample_records[2].scenario
    assert card.data.configs == [
        {"config_name": "default", "default": True, "data_files": [{"split": "train", "path": "data/train-*"}]},
        {"config_name": scen, "data_files": [{"split": "train", "path": f"data/train-{scen}-*"}]}]
    info = card.data.dataset_info
    assert [i["config_name"] for i in info] == ["default", scen]
    assert info[0]["splits"] == [{"name": "train", "num_examples": 1}]
    assert [f["name"] for f in info[0]["features"]] == ["id", "scenario", "messages", "tools", "meta"]
    assert card.data.annotations_creators == ["machine-generated"] == card.data.language_creators
    body = card.text
    assert f"| {scen} | 1 | 100.0% | 100.0% | 100.0% |" in body
    assert "| generated or imported | 8 |" in body
    assert "| valid | 7 |" in body and "| valid, after dedup | 6 |" in body
    assert "| accepted in review | 1 |" in body and "| in this dataset | 1 |" in body
    for t in sample_records[2].tools:
        assert f"`{t.function.name}`" in body
    assert "load_dataset(\"me/tools\")" in body and "SFTTrainer" in body
    assert "No teacher is recorded" in body
    for heading in ("## Dataset structure", "### Columns", "### Example row", "## Limitations", "## Citation"):
        assert heading in body
    assert f'"id": "{sample_records[2].id}"' in body  # the example row is a real row
    assert "audio" not in body.lower()  # no audio claims without audio


def test_card_with_teacher_states_its_terms(filled_db, sample_records):
    from toolforge.record import Record

    rec = Record.model_validate({**sample_records[0].to_dict(), "id": None, "meta": {"teacher": "openai:gpt-x"}})
    with open_store(filled_db) as store:
        text = build_card(store, {"train": [rec]}, repo_id="me/tools")
    body = DatasetCard(text).text
    assert "| openai:gpt-x | 1 |" in body and "terms of use apply" in body
    assert "written by 1 teacher model(s)" in body


def test_size_categories():
    assert size_category(0) == "n<1K" and size_category(1000) == "1K<n<10K" and size_category(10**6) == "1M<n<10M"


def test_audio_summary():
    from toolforge.hub.card import audio_summary

    rows = {"a": [{"engine": "espeak", "voice": "en-us", "duration_s": 1800.0, "sample_rate": 24000},
                  {"engine": "piper", "voice": "joe", "duration_s": 1800.0, "sample_rate": 22050}],
            "b": [{"engine": "espeak", "voice": "en-us", "duration_s": 3600.0, "sample_rate": 24000}]}
    s = audio_summary(rows)
    assert s["clips"] == 3 and s["hours"] == "2.000" and s["seconds"] == "7200.0"
    assert s["sample_rates"] == "22050 Hz, 24000 Hz"
    assert s["voices"][0] == {"engine": "espeak", "voice": "en-us", "n": 2}
