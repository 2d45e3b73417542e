"""``toolforge train``: LoRA SFT with TRL's SFTTrainer and PEFT on a toolforge export or store split."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from toolforge.errors import InputError
from toolforge.record import Record
from toolforge.train.config import TrainConfig
from toolforge.train.models import (
    TRAIN_INFO,
    load_model,
    load_tokenizer,
    require_train_extra,
    resolve_model,
)

log = logging.getLogger(__name__)


def load_training_records(cfg: TrainConfig) -> list[Record]:
    """The records to train on: ``cfg.data`` (any export toolforge reads back) or a split of the store."""
    if cfg.data is not None:
        from toolforge.evaluate.references import load_reference_records

        path = cfg.data
        if path.is_dir():
            cands = [path / f"{cfg.split}{ext}" for ext in (".parquet", ".jsonl")]
            found = [c for c in cands if c.is_file()]
            if not found:
                raise InputError(f"{path}: no {cfg.split}.parquet or {cfg.split}.jsonl in the folder",
                                 hint="pass the export file itself, or export with --test-fraction first")
            path = found[0]
        records = [r for _, r in load_reference_records(path)]
    else:
        from toolforge.evaluate.run import split_records

        records = [r for _, r in split_records(cfg.db, cfg.split)]
    if cfg.limit:
        records = records[: cfg.limit]
    if not records:
        raise InputError("no records to train on")
    return records


class _LogCallback:
    """Collects the trainer's logs (loss, mean token accuracy, learning rate) and appends them to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        path.write_text("")

    def as_callback(self) -> Any:
        from transformers import TrainerCallback

        outer = self

        class _CB(TrainerCallback):  # type: ignore[misc]
            def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
                if not logs:
                    return
                row = {"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, (int, float))}}
                outer.rows.append(row)
                if "loss" in row:
                    log.info("step %d: loss %.4f, token accuracy %s", row["step"], row["loss"],
                             f"{row['mean_token_accuracy']:.3f}" if "mean_token_accuracy" in row else "-")
                with outer.path.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")

        return _CB()


def train_model(cfg: TrainConfig) -> dict[str, Any]:
    """Train a LoRA adapter; write ``out/adapter`` (adapter + tokenizer with the template used),
    ``out/merged`` with ``merge``, ``out/train_log.jsonl`` and ``out/toolforge_train.json``.
    Returns the summary that ``toolforge_train.json`` holds."""
    require_train_extra()
    from toolforge.train.device import plan_device
    from toolforge.train.encode import encode, expressible, template_source

    t0 = time.perf_counter()
    records = load_training_records(cfg)
    plan = plan_device(cfg.device, gradient_checkpointing=cfg.gradient_checkpointing)
    ref = resolve_model(cfg.base_model)
    tokenizer = load_tokenizer(ref)
    source, origin = template_source(tokenizer, cfg.chat_template)
    kept, dropped = expressible(records, source, tokenizer, think=cfg.think)
    if not kept:
        raise InputError(f"{origin} cannot express any of the {len(records)} records "
                         f"({', '.join(f'{k}: {v}' for k, v in sorted(dropped.items()))})",
                         hint="pass a template that shows tools and calls: --chat-template chatml_tools or a .jinja file")
    if dropped:
        log.warning("%d of %d records left out: %s cannot express them (%s)", len(records) - len(kept), len(records),
                    origin, ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items())))
    enc = encode(tokenizer, kept, source, think=cfg.think, max_length=cfg.max_length)
    enc.dropped = dropped
    if not enc.examples:
        raise InputError("no example has an assistant token left to train on (all truncated away?)",
                         hint="raise --max-length")

    import torch
    from peft import LoraConfig, get_peft_model
    from trl import SFTConfig, SFTTrainer

    from datasets import Dataset  # type: ignore[attr-defined]  # the repo's datasets/ folder shadows it for mypy

    torch.manual_seed(cfg.seed)
    model = load_model(ref, dtype=plan.torch_dtype(), device=plan.device)
    if ref.adapter is not None:  # continue training an adapter: merge it first, then a fresh LoRA on top
        model = model.merge_and_unload()
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.target_modules, task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    logs = _LogCallback(out / "train_log.jsonl")
    args = SFTConfig(
        output_dir=str(out / "checkpoints"), per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_ratio, num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps or -1, logging_steps=cfg.logging_steps, save_strategy="no", report_to=[],
        bf16=plan.bf16, fp16=plan.fp16, gradient_checkpointing=plan.gradient_checkpointing,
        max_length=cfg.max_length, seed=cfg.seed, use_cpu=plan.device == "cpu", disable_tqdm=True,
        assistant_only_loss=False, completion_only_loss=False, packing=False, dataloader_num_workers=0,
    )
    dataset = Dataset.from_list(enc.examples)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=[logs.as_callback()])
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for cb in (PrinterCallback, ProgressCallback):  # they print to stdout: the log file and our logger report instead
        trainer.remove_callback(cb)
    trainer.train()

    adapter_dir = out / "adapter"
    trainer.model.save_pretrained(str(adapter_dir))
    tokenizer.chat_template = source  # the student is evaluated with the template it was trained on
    tokenizer.save_pretrained(str(adapter_dir))
    if cfg.merge:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(out / "merged"))
        tokenizer.save_pretrained(str(out / "merged"))
    losses = [r["loss"] for r in logs.rows if "loss" in r]
    accs = [r["mean_token_accuracy"] for r in logs.rows if "mean_token_accuracy" in r]
    summary = {
        "base_model": ref.base if ref.adapter is None else str(ref.base), "base_model_spec": cfg.base_model,
        "chat_template": origin, "records": len(records), "device": plan.to_dict(),
        "encoding": enc.summary(), "steps": trainer.state.global_step,
        "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
        "first_token_accuracy": accs[0] if accs else None, "last_token_accuracy": accs[-1] if accs else None,
        "seconds": round(time.perf_counter() - t0, 1),
        "config": json.loads(cfg.model_dump_json()),
        "adapter": str(adapter_dir), "merged": str(out / "merged") if cfg.merge else None,
    }
    (out / TRAIN_INFO).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
