"""Loopback teacher replicas for fleet tests and benchmarks (a test double, kept in tests/).

:class:`Replica` is a :class:`~tests.reliability.teacher_server.FaultyTeacher` with no
injected faults, a fixed latency per request and a fixed number of slots (a GPU
replica's batch): ``capacity`` requests are served at once, the rest wait. ``kill()``
makes it answer every later request with a TCP reset, including on connections the
client keeps alive, and refuse new ones: a replica that died mid-run.
"""

from __future__ import annotations

import threading
import time

from tests.reliability.teacher_server import FaultyTeacher


class Replica(FaultyTeacher):
    def __init__(self, *, latency: float = 0.05, capacity: int = 4) -> None:
        super().__init__(rate=0.0)
        self.latency = latency
        self.slots = threading.Semaphore(capacity)
        self.dead = False

    def pick(self) -> str | None:
        with self.lock:
            self.requests += 1
        if self.dead:
            return "reset"
        with self.slots:
            time.sleep(self.latency)
        return "reset" if self.dead else None

    def kill(self) -> None:
        """Die: reset every request from now on and stop accepting connections."""
        self.dead = True
        self.server.shutdown()
        self.server.server_close()

    def stop(self) -> None:
        if not self.dead:
            super().stop()
