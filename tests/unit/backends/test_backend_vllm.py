"""Request shaping and batching of the vllm: offline backend, against a stand-in LLM (no GPU here)."""

from __future__ import annotations

import asyncio
import types

from toolforge.backends.base import ChatRequest
from toolforge.backends.vllm_offline import (
    VLLMOptions,
    VLLMTeacher,
    make_sampling_params,
    sampling_kwargs,
)

SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


class Recorder:
    def __init__(self, **kw):
        self.kw = kw


def new_api():
    return types.SimpleNamespace(SamplingParams=Recorder, StructuredOutputsParams=Recorder)


def old_api():
    return types.SimpleNamespace(SamplingParams=Recorder, GuidedDecodingParams=Recorder)


def test_current_api_uses_structured_outputs():
    sp = make_sampling_params(ChatRequest(messages=[], response_schema=SCHEMA, temperature=0.2, max_tokens=99, seed=4),
                              new_api())
    assert sp.kw["temperature"] == 0.2 and sp.kw["max_tokens"] == 99 and sp.kw["seed"] == 4
    assert sp.kw["structured_outputs"].kw == {"json": SCHEMA}
    assert "guided_decoding" not in sp.kw


def test_older_api_uses_guided_decoding():
    sp = make_sampling_params(ChatRequest(messages=[], response_schema=SCHEMA), old_api())
    assert sp.kw["guided_decoding"].kw == {"json": SCHEMA}


def test_no_schema_no_constraint():
    assert "structured_outputs" not in sampling_kwargs(ChatRequest(messages=[]))


class FakeLLM:
    """Mimics vllm.LLM.chat(conversations, sampling_params=[...], use_tqdm=False) -> [RequestOutput]."""

    def __init__(self):
        self.calls = []

    def chat(self, conversations, sampling_params=None, use_tqdm=True):
        assert isinstance(conversations, list) and isinstance(sampling_params, list)
        assert len(conversations) == len(sampling_params) and use_tqdm is False
        self.calls.append((conversations, sampling_params))
        return [types.SimpleNamespace(prompt_token_ids=[1, 2], outputs=[types.SimpleNamespace(
            text=f"reply to {c[-1]['content']}", finish_reason="stop", token_ids=[7])]) for c in conversations]


def test_concurrent_chats_are_batched_into_one_llm_chat_call():
    llm = FakeLLM()
    t = VLLMTeacher("some/model", VLLMOptions(batch_size=8, batch_wait_ms=50), llm_factory=lambda: llm, api=new_api())

    async def go():
        reqs = [ChatRequest(messages=[{"role": "user", "content": f"q{i}"}], response_schema=SCHEMA, seed=i)
                for i in range(5)]
        out = await asyncio.gather(*(t.chat(r) for r in reqs))
        await t.aclose()
        return out

    out = asyncio.run(go())
    assert [o.text for o in out] == [f"reply to q{i}" for i in range(5)]
    assert len(llm.calls) == 1 and t.batches == [5]
    convs, params = llm.calls[0]
    assert [p.kw["seed"] for p in params] == list(range(5))
    assert all(p.kw["structured_outputs"].kw["json"] == SCHEMA for p in params)
    assert out[0].usage == {"prompt_tokens": 2, "completion_tokens": 1}


def test_batch_size_caps_a_batch_and_errors_reach_every_waiter():
    llm = FakeLLM()
    t = VLLMTeacher("m", VLLMOptions(batch_size=2, batch_wait_ms=20), llm_factory=lambda: llm, api=new_api())

    async def go():
        reqs = [ChatRequest(messages=[{"role": "user", "content": str(i)}]) for i in range(5)]
        await asyncio.gather(*(t.chat(r) for r in reqs))
        await t.aclose()

    asyncio.run(go())
    assert max(t.batches) <= 2 and sum(t.batches) == 5

    class Broken:
        def chat(self, *a, **k):
            raise RuntimeError("CUDA out of memory")

    t2 = VLLMTeacher("m", VLLMOptions(), llm_factory=Broken, api=new_api())

    async def go2():
        res = await asyncio.gather(*(t2.chat(ChatRequest(messages=[])) for _ in range(3)), return_exceptions=True)
        await t2.aclose()
        return res

    assert all(isinstance(r, RuntimeError) for r in asyncio.run(go2()))



def test_parallelism_options_pass_through_to_the_engine(monkeypatch):
    import sys

    import pydantic
    import pytest

    from toolforge.backends.vllm_offline import engine_kwargs, from_spec

    kw = engine_kwargs("m", VLLMOptions(tensor_parallel_size=2, data_parallel_size=4, pipeline_parallel_size=2,
                                        distributed_executor_backend="ray", engine_args={"enforce_eager": True}))
    assert kw == {"model": "m", "tensor_parallel_size": 2, "pipeline_parallel_size": 2, "data_parallel_size": 4,
                  "distributed_executor_backend": "ray", "gpu_memory_utilization": 0.9, "dtype": "auto",
                  "enforce_eager": True}
    plain = engine_kwargs("m", VLLMOptions())
    assert "data_parallel_size" not in plain and "distributed_executor_backend" not in plain

    built = []  # a stand-in vllm module: the backend's own factory builds LLM(**kwargs) from the spec's options
    monkeypatch.setitem(sys.modules, "vllm", types.SimpleNamespace(LLM=lambda **kw: built.append(kw) or FakeLLM()))
    t = from_spec("org/model", data_parallel_size=2, distributed_executor_backend="mp", tensor_parallel_size=2)
    t._api = new_api()
    asyncio.run(t.check())
    assert built == [{"model": "org/model", "tensor_parallel_size": 2, "data_parallel_size": 2,
                      "distributed_executor_backend": "mp", "gpu_memory_utilization": 0.9, "dtype": "auto"}]
    with pytest.raises(pydantic.ValidationError):
        VLLMOptions(distributed_executor_backend="slurm")
