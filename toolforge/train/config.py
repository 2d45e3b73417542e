"""What ``toolforge train`` does, as one pydantic model (also a recipe's ``train:`` section).

The defaults are the LoRA recipe of the smol-tools-4b card: rank 32, alpha 64, every
attention and MLP projection, learning rate 1e-4 with a cosine schedule, 3 epochs,
4,096 tokens, batch 4 with 8 accumulation steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Think = Literal["tags", "field", "drop"]


class TrainSection(BaseModel):
    """Every training setting (a recipe's ``train:`` section); ``TrainConfig`` adds data and output."""

    model_config = ConfigDict(extra="forbid")

    base_model: str = Field(default="smollm2", description="a local folder, a .gguf file, a packaged model name, "
                            "or a Hub id (online users)")
    chat_template: str | None = Field(default=None, description="None: the model's own; a .jinja file, a tokenizer "
                                      "folder, or chatml_tools (toolforge's)")
    think: Think = "tags"
    # LoRA (PEFT)
    lora_r: int = Field(default=32, ge=1)
    lora_alpha: int = Field(default=64, ge=1)
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    # optimisation (TRL SFTTrainer)
    learning_rate: float = Field(default=1e-4, gt=0)
    lr_scheduler: str = "cosine"
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    epochs: float = Field(default=3.0, gt=0)
    max_steps: int | None = Field(default=None, ge=1, description="stop after N optimiser steps (overrides epochs)")
    max_length: int = Field(default=4096, ge=16)
    batch_size: int = Field(default=4, ge=1)
    grad_accum: int = Field(default=8, ge=1)
    seed: int = 0
    limit: int | None = Field(default=None, ge=1, description="train on the first N records only")
    # hardware
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    gradient_checkpointing: bool | None = Field(default=None, description="None: on for GPUs, off on CPU")
    merge: bool = Field(default=False, description="also write the merged model (base + adapter)")
    logging_steps: int = Field(default=1, ge=1)


class TrainConfig(TrainSection):
    data: Path | None = Field(default=None, description="an export (trl Parquet, openai/sharegpt/records JSONL) "
                              "or a folder holding train.parquet / train.jsonl")
    db: Path | None = None
    split: str = "train"
    out: Path

    @model_validator(mode="after")
    def _one_source(self) -> TrainConfig:
        if (self.data is None) == (self.db is None):
            raise ValueError("give exactly one of --data PATH and --db STORE (with --split)")
        return self
