"""``vllm:MODEL``: vLLM's offline engine (``vllm.LLM``), batched, with structured outputs.

Concurrent ``chat()`` calls are gathered into one batched ``LLM.chat(conversations,
sampling_params=[...])`` call (up to ``batch_size`` requests, or whatever arrived
within ``batch_wait_ms``), run in a worker thread. Each request's schema goes in
its own ``SamplingParams``:

- vLLM >= 0.10: ``SamplingParams(structured_outputs=StructuredOutputsParams(json=schema))``
- older vLLM:  ``SamplingParams(guided_decoding=GuidedDecodingParams(json=schema))``

Request shaping (:func:`sampling_kwargs`, :func:`make_sampling_params`) is pure
and unit-tested with a stand-in ``vllm`` namespace; a real run needs a GPU.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from toolforge.backends.base import ChatRequest, ChatResponse, FatalBackendError
from toolforge.backends.batching import Batcher
from toolforge.errors import UsageError

log = logging.getLogger(__name__)


class VLLMOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=256, ge=1)
    batch_wait_ms: float = Field(default=20.0, ge=0)
    # vLLM's own parallelism, passed through as engine arguments (no home-made scheduler):
    tensor_parallel_size: int = Field(default=1, ge=1)
    pipeline_parallel_size: int = Field(default=1, ge=1)
    data_parallel_size: int = Field(default=1, ge=1)
    distributed_executor_backend: Literal["mp", "ray", "uni", "external_launcher"] | None = None
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    max_model_len: int | None = None
    dtype: str = "auto"
    engine_args: dict[str, Any] = Field(default_factory=dict)


def engine_kwargs(model: str, opts: VLLMOptions) -> dict[str, Any]:
    """The keyword arguments of ``vllm.LLM(...)`` for these options (pure; unit-tested without vLLM).

    Parallelism is vLLM's own: ``tensor_parallel_size`` and ``pipeline_parallel_size``
    split the model over GPUs, ``data_parallel_size`` runs replicas, and
    ``distributed_executor_backend="ray"`` spreads them over a Ray cluster.
    Settings left at their defaults are not sent, so vLLM's own defaults apply.
    ``engine_args`` are passed as they are and win.
    """
    kw: dict[str, Any] = {"model": model, "tensor_parallel_size": opts.tensor_parallel_size,
                          "gpu_memory_utilization": opts.gpu_memory_utilization, "dtype": opts.dtype}
    if opts.pipeline_parallel_size > 1:
        kw["pipeline_parallel_size"] = opts.pipeline_parallel_size
    if opts.data_parallel_size > 1:
        kw["data_parallel_size"] = opts.data_parallel_size
    if opts.distributed_executor_backend is not None:
        kw["distributed_executor_backend"] = opts.distributed_executor_backend
    if opts.max_model_len:
        kw["max_model_len"] = opts.max_model_len
    kw.update(opts.engine_args)
    return kw


def sampling_kwargs(req: ChatRequest) -> dict[str, Any]:
    """Plain sampling settings for one request (no vLLM import)."""
    kw: dict[str, Any] = {"temperature": req.temperature, "max_tokens": req.max_tokens}
    if req.seed is not None:
        kw["seed"] = req.seed
    return kw


def make_sampling_params(req: ChatRequest, api: Any) -> Any:
    """A ``SamplingParams`` for one request; ``api`` is the ``vllm`` module (or a stand-in).

    Uses ``StructuredOutputsParams`` when this vLLM has it (current API), else
    ``GuidedDecodingParams`` (before 0.10).
    """
    kw = sampling_kwargs(req)
    if req.response_schema is not None:
        so_cls = getattr(api, "StructuredOutputsParams", None)
        if so_cls is not None:
            kw["structured_outputs"] = so_cls(json=req.response_schema)
        else:
            gd_cls = getattr(api, "GuidedDecodingParams", None)
            if gd_cls is None:
                raise FatalBackendError("this vLLM has neither StructuredOutputsParams nor GuidedDecodingParams")
            kw["guided_decoding"] = gd_cls(json=req.response_schema)
    return api.SamplingParams(**kw)


def _vllm_api() -> Any:
    import types

    import vllm

    api = types.SimpleNamespace(SamplingParams=vllm.SamplingParams)
    try:
        from vllm.sampling_params import StructuredOutputsParams

        api.StructuredOutputsParams = StructuredOutputsParams
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        api.GuidedDecodingParams = GuidedDecodingParams
    return api


def read_output(out: Any) -> ChatResponse:
    """A ``RequestOutput`` -> ChatResponse (first completion)."""
    comp = out.outputs[0]
    usage = {"prompt_tokens": len(getattr(out, "prompt_token_ids", None) or []),
             "completion_tokens": len(getattr(comp, "token_ids", None) or [])}
    return ChatResponse(text=comp.text or "", finish_reason=getattr(comp, "finish_reason", None), usage=usage)


class VLLMTeacher:
    supports_schema = True
    supports_tools = False

    def __init__(self, model: str, opts: VLLMOptions, *, llm_factory: Callable[[], Any] | None = None,
                 api: Any = None) -> None:
        self.model = model
        self.opts = opts
        self.name = f"vllm:{model}"
        self._factory = llm_factory or self._default_factory
        self._api = api
        self._llm: Any = None
        self._batcher: Batcher[ChatRequest, ChatResponse] = Batcher(
            self.generate_batch, batch_size=opts.batch_size, wait_ms=opts.batch_wait_ms)
        self.batches: list[int] = []  # sizes of the batches sent (for tests and logs)

    def _default_factory(self) -> Any:
        from vllm import LLM

        return LLM(**engine_kwargs(self.model, self.opts))

    def _ensure(self) -> Any:
        if self._llm is None:
            self._llm = self._factory()
        if self._api is None:
            self._api = _vllm_api()
        return self._llm

    async def check(self) -> None:
        await asyncio.to_thread(self._ensure)

    def generate_batch(self, reqs: list[ChatRequest]) -> list[ChatResponse]:
        """One batched ``LLM.chat`` call for several requests (blocking)."""
        llm = self._ensure()
        params = [make_sampling_params(r, self._api) for r in reqs]
        outputs = llm.chat([r.messages for r in reqs], sampling_params=params, use_tqdm=False)
        self.batches.append(len(reqs))
        return [read_output(o) for o in outputs]

    async def chat(self, req: ChatRequest) -> ChatResponse:
        return await self._batcher.submit(req)

    async def aclose(self) -> None:
        await self._batcher.aclose()
        self._llm = None


def from_spec(rest: str, **options: Any) -> VLLMTeacher:
    if not rest:
        raise UsageError("vllm: teacher needs a model name or path", hint="e.g. vllm:Qwen/Qwen2.5-7B-Instruct")
    return VLLMTeacher(rest, VLLMOptions(**options))
