"""Gathering concurrent ``chat()`` calls into batches for in-process engines (vLLM, transformers).

A backend owns a :class:`Batcher` and awaits ``batcher.submit(req)``; one worker task takes
up to ``batch_size`` requests (or whatever arrived within ``wait_ms`` of the first), runs
``run_batch`` in a thread, and hands each caller its own result, or the batch's exception.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")


class Batcher(Generic[Req, Res]):
    def __init__(self, run_batch: Callable[[list[Req]], list[Res]], *, batch_size: int, wait_ms: float) -> None:
        self.run_batch = run_batch
        self.batch_size = batch_size
        self.wait_ms = wait_ms
        self._queue: asyncio.Queue[tuple[Req, asyncio.Future[Res]]] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, req: Req) -> Res:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run())
        fut: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        await self._queue.put((req, fut))
        return await fut

    async def _next_batch(self) -> list[tuple[Req, asyncio.Future[Res]]]:
        assert self._queue is not None
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_ms / 1000
        while len(batch) < self.batch_size:
            timeout = deadline - loop.time()
            if timeout <= 0:
                while len(batch) < self.batch_size and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                break
            try:
                batch.append(await asyncio.wait_for(self._queue.get(), timeout))
            except asyncio.TimeoutError:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            try:
                results = await asyncio.to_thread(self.run_batch, [r for r, _ in batch])
            except Exception as exc:  # hand the failure to every waiting request
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), res in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(res)

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker
        self._worker = None
        self._queue = None
