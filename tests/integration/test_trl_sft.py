"""The trl export trains in TRL's SFTTrainer as it is (dev test, CPU, seconds).

A 2-layer random Llama and a word-level tokenizer built from the rendered texts (nothing
downloaded) train two steps on `toolforge export --format trl` with the real Qwen2.5
template (TRL swaps in its training variant for ``assistant_only_loss``) and with TRL's
Qwen3 template, in both ``--think`` modes that keep reasoning.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.unit.chat_template.records import EXTRA, TEMPLATES
from toolforge.record import Record
from toolforge.store import open_store

pytestmark = pytest.mark.integration

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[UNK]"]


def _qwen3_template() -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja").read_text(encoding="utf-8")


def _tokenizer(template: str, texts: list[str]):
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast

    pre = pre_tokenizers.WhitespaceSplit()
    words = sorted({w for t in texts for w, _ in pre.pre_tokenize_str(t)} - set(SPECIALS))
    vocab = {w: i for i, w in enumerate(SPECIALS + words)}
    backend = Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  unk_token="[UNK]", additional_special_tokens=["<|im_start|>"])
    tok.chat_template = template
    return tok


@pytest.fixture
def trl_export(run_cli, filled_db, tmp_path):
    with open_store(filled_db) as store:
        store.upsert_records([Record.model_validate(d) for d in EXTRA], source="test")

    def _export(think: str) -> Path:
        out = tmp_path / f"trl-{think}"
        run_cli("export", "--db", filled_db, "--format", "trl", "--out", out, "--status", "any", "--think", think,
                check=True)
        return out / "train.parquet"

    return _export


@pytest.mark.parametrize(("template_name", "think"), [("qwen2.5", "tags"), ("qwen3", "tags"), ("qwen3", "field")])
def test_sft_trainer_trains_two_steps_on_the_trl_export(trl_export, tmp_path, template_name, think):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import SFTConfig, SFTTrainer

    from datasets import load_dataset

    torch.manual_seed(0)
    template = (TEMPLATES / "Qwen-Qwen2.5-7B-Instruct.jinja").read_text(encoding="utf-8") \
        if template_name == "qwen2.5" else _qwen3_template()
    ds = load_dataset("parquet", data_files={"train": str(trl_export(think))}, cache_dir=str(tmp_path / "cache"))["train"]
    assert ds.num_rows == 11
    probe = _tokenizer(template, [])
    texts = [probe.apply_chat_template(r["messages"], tools=r["tools"] or None, tokenize=False) for r in ds]
    if think in ("tags", "field"):  # the reasoning reaches the text the model trains on (last turns at least)
        assert any("<think>" in t for t in texts)
    tok = _tokenizer(template, texts)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=4096, pad_token_id=tok.pad_token_id,
                                         eos_token_id=tok.eos_token_id))
    args = SFTConfig(output_dir=str(tmp_path / "out"), max_steps=2, per_device_train_batch_size=2, learning_rate=1e-3,
                     logging_steps=1, save_strategy="no", report_to=[], use_cpu=True, dataloader_num_workers=0,
                     assistant_only_loss=True, max_length=2048, seed=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    first = trainer.train_dataset[0]
    labels = first["labels"]  # TRL folds the assistant mask into labels: -100 outside assistant turns
    assert -100 in labels and any(x != -100 for x in labels)
    assert sum(x != -100 for x in labels) < len(labels) / 2  # loss on the assistant turns only
    out = trainer.train()
    assert trainer.state.global_step == 2
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 2 and all(math.isfinite(x) and x > 0 for x in losses), trainer.state.log_history
    assert math.isfinite(out.training_loss)
    json.dumps(trainer.state.log_history)  # plain numbers
