"""``hf:PATH``: a local transformers model, or a LoRA adapter on its base, generating in batches.

For scoring a student (``toolforge eval --model hf:runs/student``): each request is rendered
with the model's own chat template (for a ``toolforge train`` output, the template it was
trained with, saved beside the adapter), ``tools`` included; concurrent requests are
batched (left padding) and decoded greedily unless a temperature is set. The answer comes
back as text, which eval reads with the parser family (``--family``). ``PATH`` may also be
a ``.gguf`` file or a packaged model name (``hf:smollm2``), see :mod:`toolforge.train.models`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from toolforge.backends.base import ChatRequest, ChatResponse
from toolforge.backends.batching import Batcher
from toolforge.errors import UsageError

log = logging.getLogger(__name__)


class HFOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=8, ge=1)
    batch_wait_ms: float = Field(default=20.0, ge=0)
    device: str = "auto"
    chat_template: str | None = None     # override the model's template (a file, folder or chatml_tools)


def template_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI wire messages -> chat-template messages (tool-call arguments as JSON objects)."""
    out = []
    for m in messages:
        m = dict(m)
        if m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                fn = dict(c.get("function", {}))
                if isinstance(fn.get("arguments"), str):
                    with contextlib.suppress(json.JSONDecodeError):
                        fn["arguments"] = json.loads(fn["arguments"])
                calls.append({**c, "function": fn})
            m["tool_calls"] = calls
        if m.get("content") is None:
            m["content"] = ""
        out.append(m)
    return out


class HFTeacher:
    supports_schema = False
    supports_tools = True

    def __init__(self, spec: str, opts: HFOptions) -> None:
        self.spec = spec
        self.opts = opts
        self.name = f"hf:{spec}"
        self._model: Any = None
        self._tok: Any = None
        self._template: str | None = None
        self._plan: Any = None
        self._lock = threading.Lock()
        self.batches: list[int] = []
        self._batcher: Batcher[ChatRequest, ChatResponse] = Batcher(
            self.generate_batch, batch_size=opts.batch_size, wait_ms=opts.batch_wait_ms)

    def _ensure(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            from toolforge.train.device import plan_device
            from toolforge.train.encode import template_source
            from toolforge.train.models import (
                load_model,
                load_tokenizer,
                require_train_extra,
                resolve_model,
            )

            require_train_extra()
            ref = resolve_model(self.spec)
            self._plan = plan_device(self.opts.device)
            tok = load_tokenizer(ref)
            tok.padding_side = "left"
            self._template, _ = template_source(tok, self.opts.chat_template)
            model = load_model(ref, dtype=self._plan.torch_dtype(), device=self._plan.device)
            model.eval()
            self._tok, self._model = tok, model

    def prompt(self, req: ChatRequest) -> str:
        self._ensure()
        return str(self._tok.apply_chat_template(template_messages(req.messages), tools=req.tools or None,
                                                 chat_template=self._template, tokenize=False,
                                                 add_generation_prompt=True))

    def generate_batch(self, reqs: list[ChatRequest]) -> list[ChatResponse]:
        """One ``model.generate`` call for several requests (blocking)."""
        import torch

        self._ensure()
        prompts = [self.prompt(r) for r in reqs]
        enc = self._tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self._plan.device)
        temperature = max(r.temperature for r in reqs)
        kw: dict[str, Any] = {"max_new_tokens": max(r.max_tokens for r in reqs), "pad_token_id": self._tok.pad_token_id}
        if temperature > 0:
            kw.update(do_sample=True, temperature=temperature)
            if reqs[0].seed is not None:
                torch.manual_seed(reqs[0].seed)
        else:
            kw.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.no_grad():
            out = self._model.generate(**enc, **kw)
        self.batches.append(len(reqs))
        width = enc["input_ids"].shape[1]
        results = []
        for i, r in enumerate(reqs):
            new = out[i, width:].tolist()[: r.max_tokens]
            eos = self._tok.eos_token_id
            finish = "stop" if eos in new else "length"
            if eos in new:
                new = new[: new.index(eos)]
            text = self._tok.decode(new, skip_special_tokens=True)
            results.append(ChatResponse(text=text, finish_reason=finish,
                                        usage={"prompt_tokens": int(enc["attention_mask"][i].sum()),
                                               "completion_tokens": len(new)}))
        return results

    async def check(self) -> None:
        import asyncio

        await asyncio.to_thread(self._ensure)

    async def chat(self, req: ChatRequest) -> ChatResponse:
        return await self._batcher.submit(req)

    async def aclose(self) -> None:
        await self._batcher.aclose()


def from_spec(rest: str, **options: Any) -> HFTeacher:
    if not rest:
        raise UsageError("hf: needs a model folder, adapter folder, .gguf file or packaged name",
                         hint="e.g. hf:runs/student (a `toolforge train` output) or hf:smollm2")
    return HFTeacher(rest, HFOptions(**options))
