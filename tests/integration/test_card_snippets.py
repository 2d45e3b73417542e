"""The dataset card's "Load it" and "Train on it" snippets run as written on the pushed dataset.

The dataset is pushed with `toolforge push` to the Hub-API test double (tests/hubserver) and
the card's Python blocks are run unchanged in a fresh interpreter with HF_ENDPOINT pointing
at it, text-only and with audio (espeak clips; no torchcodec, so the card reads the WAV bytes
with `Audio(decode=False)`). The snippet's base model id resolves, as transformers resolves
any id that names an existing local folder, to a folder of that name in the working
directory holding a tiny random Llama with the real Qwen2.5 chat template (no weights are
downloaded; tests/fixtures/chat_templates/SOURCES.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.unit.chat_template.records import TEMPLATES
from toolforge.export.convert import chat_messages
from toolforge.store import Selection, open_store

pytestmark = pytest.mark.integration


def _python_blocks(card: str, heading: str) -> list[str]:
    section = card.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def _tiny_base_model(folder, texts: list[str]) -> None:
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[UNK]"]
    pre = pre_tokenizers.WhitespaceSplit()
    words = sorted({w for t in texts for w, _ in pre.pre_tokenize_str(t)} - set(specials))
    backend = Tokenizer(WordLevel({w: i for i, w in enumerate(specials + words)}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  unk_token="[UNK]", additional_special_tokens=["<|im_start|>"])
    tok.chat_template = (TEMPLATES / "Qwen-Qwen2.5-7B-Instruct.jinja").read_text(encoding="utf-8")
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=4096, pad_token_id=tok.pad_token_id,
                                         eos_token_id=tok.eos_token_id))
    tok.save_pretrained(folder)
    model.save_pretrained(folder)


def _run_card(run_cli, hub_server, db, repo: str, workdir):
    env = hub_server.env(xet=False)
    stage = workdir / "stage"
    run_cli("push", repo, "--db", db, "--status", "any", "--test-fraction", "0.25", "--seed", "3",
            "--stage-dir", stage, "--force", env=env, check=True)
    card = (stage / "README.md").read_text(encoding="utf-8")
    load, train = _python_blocks(card, "Load it"), _python_blocks(card, "Train on it")
    assert load and len(train) == 1
    model_id = re.search(r'model_id = "([^"]+)"', train[0]).group(1)
    from transformers import AutoTokenizer  # noqa: F401 - fail here, not in the subprocess, when missing

    with open_store(db, read_only=True) as store:
        records = list(store.iter_records(Selection(status="any")))
    import tokenizers  # noqa: F401

    from toolforge.chat_template import load_chat_template, render_messages

    qwen = load_chat_template(TEMPLATES / "Qwen-Qwen2.5-7B-Instruct.jinja")
    texts = [render_messages(qwen, chat_messages(r, think="tags"), r.tools_dump() or None) for r in records]
    _tiny_base_model(workdir / model_id, texts)
    script = "\n".join(load + train)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=workdir, timeout=600,
                          env={**os.environ, **env, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "0",
                               "TOKENIZERS_PARALLELISM": "false", "CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 0, f"card snippets failed:\n{script}\n---\n{proc.stderr[-4000:]}"
    return card, proc.stdout


def test_card_snippets_run_text_only(run_cli, hub_server, filled_db, tmp_path):
    card, out = _run_card(run_cli, hub_server, filled_db, "me/tools", tmp_path)
    assert "Audio(" not in card and "audio" not in card.split("---", 2)[1]  # no audio claims without audio
    assert "annotations_creators:\n- machine-generated" in card and "@misc{me_tools," in card
    first = out.splitlines()[0].split()
    assert first[0] in {"single_tool", "multi_tool_parallel", "multi_tool_sequential", "no_tool_needed",
                        "error_recovery", "reasoning_heavy", "complex_multi_step"}


@pytest.fixture
def voiced_db(run_cli, filled_db):
    run_cli("tts", "--db", filled_db, "--status", "any", "--scenario", "single_tool", "--scenario",
            "multi_tool_parallel", check=True, timeout=600)
    return filled_db


def test_card_snippets_run_with_audio(run_cli, hub_server, voiced_db, tmp_path):
    card, out = _run_card(run_cli, hub_server, voiced_db, "me/voiced", tmp_path)
    assert "List(Audio(decode=False))" in card and "remove_columns" in card
    with open_store(voiced_db, read_only=True) as store:
        n_voiced = store.con.execute("SELECT count(DISTINCT record_id) FROM audio").fetchone()[0]
    assert 0 < n_voiced < 8 and f"{n_voiced} of the 8 conversations" in card
    role, _turn, _idx, seconds, _unit = out.splitlines()[1].split()
    assert role in {"user", "assistant"} and float(seconds) > 0.2
