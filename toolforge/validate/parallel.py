"""The schema stage in worker processes: ``toolforge validate --workers N``.

One process judges 3,300-3,900 records a second with every default check on
(the grounding checks are pure Python and cost ~190-230 us a record; see
``benchmarks/bench_validate.py``), so a large file or store is split into
chunks of raw lines or stored rows that worker processes decode and judge,
and the results come back in input order: the report, the stored validations
and the issue rows are the same as one process gives, record for record
(``tests/unit/validate/test_parallel.py`` checks it on the equivalence corpus).

- Workers start only when the input is large (more than :data:`START_AFTER`
  records): a small file never pays for process start-up.
- They come from a ``forkserver`` (a fresh interpreter that imports the
  validator once, then forks a worker per slot): nothing of the parent (a DuckDB
  connection, the progress thread) is inherited.
- The parent reads and writes (the file, the store); the workers only judge.
  A worker that dies is a clear error, and nothing stored is lost: results are
  written batch by batch as they arrive, in order.
- Ctrl-C is the parent's: workers ignore SIGINT (see ``_worker_boot``) and the
  interrupted parent stops them after their current chunk; a parent killed
  outright takes its workers with it (each watches the parent's sentinel).
- Where processes cannot start (no POSIX semaphores), the input is checked in
  this process, with a warning.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import chain, islice
from typing import Any

from toolforge.errors import ToolforgeError
from toolforge.validate.issues import Issue

log = logging.getLogger(__name__)

CHUNK = 500            # records per task: big enough that pickling is a small share, small enough to balance
START_AFTER = 2 * CHUNK  # inputs up to this many records are judged in this process
MAX_AUTO = 8           # --workers auto uses at most this many processes


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except OSError:
            pass
    return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | None) -> int:
    """``None`` or 0: one per usable core, at most :data:`MAX_AUTO`; else the number given (at least 1)."""
    if not workers:
        return min(usable_cores(), MAX_AUTO)
    return max(1, int(workers))


class WorkerDied(ToolforgeError):
    """A validation worker process ended without an answer (killed, or out of memory)."""

    exit_code = 1


# ----------------------------------------------------------------------------------------------
# in the worker
_VALIDATOR: Any = None


def _init(check_scenario: bool, check_grounding: bool) -> None:
    global _VALIDATOR
    from toolforge.validate.record_checks import RecordValidator

    _VALIDATOR = RecordValidator(check_scenario=check_scenario, check_grounding=check_grounding)
    _exit_with_parent()


def _exit_with_parent() -> None:
    """End this worker when the command that started it is gone: one killed outright (SIGKILL, out of memory)
    must not leave workers waiting on a queue nobody feeds. (The forkserver would not notice: each worker holds
    a copy of the pipe by which it watches the command.) The parent's sentinel is the data pipe the command
    keeps open for this worker's life; it reads as closed once the command has exited."""
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is None:
        return

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="toolforge-parent-watch", daemon=True).start()


def judge_lines(chunk: list[tuple[int, bytes]], validator: Any = None) -> list[tuple[int, list[Issue], str | None]]:
    """``(line number, issues, content id)`` for the non-blank raw lines of ``chunk``.

    The same as ``toolforge validate FILE`` does per line in one process: an unreadable line gets one
    ``json_invalid`` issue; the content id (which costs a Record model) is worked out only for lines with
    issues, the ones the report names, and only for lines that form a Record."""
    from toolforge.io.jsonl import parse_line
    from toolforge.validate.run import content_id

    v = validator or _VALIDATOR
    out: list[tuple[int, list[Issue], str | None]] = []
    for number, raw in chunk:
        line = parse_line(number, raw)
        if line is None:
            continue
        if line.error is not None:
            out.append((number, [Issue("json_invalid", "$", line.error)], None))
            continue
        issues = v.validate(line.value)
        out.append((number, issues, content_id(line.value) if issues and isinstance(line.value, dict) else None))
    return out


def judge_rows(chunk: list[tuple[Any, ...]], validator: Any = None) -> list[tuple[str, list[Issue]]]:
    """``(record id, issues)`` for stored rows (``run.PLAIN_COLUMNS``), as ``validate_store`` judges them
    (each distinct ``tools`` text decoded once per chunk)."""
    from toolforge.validate.run import checked, decode_row

    v = validator or _VALIDATOR
    tools_cache: dict[str, Any] = {}
    return [(row[0], checked(v.validate, decode_row(row, tools_cache))) for row in chunk]


# ----------------------------------------------------------------------------------------------
# in the parent
def _blank(raw: bytes) -> bool:
    """Whether ``parse_line`` skips this raw line (so that ``--limit`` counts what one process counts)."""
    if not raw.strip():
        return True
    if raw.isascii():
        return False
    try:
        return not raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


def line_chunks(lines: Iterable[tuple[int, bytes]], limit: int | None = None,
                size: int = CHUNK) -> Iterator[list[tuple[int, bytes]]]:
    """Raw lines in chunks of ``size`` non-blank lines, stopping after ``limit`` non-blank lines."""
    chunk: list[tuple[int, bytes]] = []
    n = 0
    for number, raw in lines:
        if _blank(raw):
            continue
        if limit is not None and n >= limit:
            break
        n += 1
        chunk.append((number, raw))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_chunks(fn: Callable[..., list[Any]], chunks: Iterable[list[Any]], *, workers: int, check_scenario: bool,
               check_grounding: bool) -> Iterator[list[Any]]:
    """``fn(chunk)`` (:func:`judge_lines` or :func:`judge_rows`) for every chunk, in input order: in this
    process when ``workers`` is 1 or the input holds at most :data:`START_AFTER` records (every chunk but
    the last is full), else in ``workers`` processes with at most two chunks per worker in flight."""
    it = iter(chunks)
    head = list(islice(it, START_AFTER // CHUNK + 1))
    if workers <= 1 or len(head) <= START_AFTER // CHUNK:
        yield from _here(fn, chain(head, it), check_scenario, check_grounding)
        return
    yield from _in_workers(fn, chain(head, it), workers=workers, initargs=(check_scenario, check_grounding))


def _here(fn: Callable[..., list[Any]], chunks: Iterator[list[Any]], check_scenario: bool,
          check_grounding: bool) -> Iterator[list[Any]]:
    from toolforge.validate.record_checks import RecordValidator

    local = RecordValidator(check_scenario=check_scenario, check_grounding=check_grounding)
    for chunk in chunks:
        yield fn(chunk, local)


def _in_workers(fn: Callable[..., list[Any]], chunks: Iterator[list[Any]], *, workers: int,
                initargs: tuple[bool, bool]) -> Iterator[list[Any]]:
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    first = next(chunks, None)
    if first is None:
        return
    pending: deque[Future[list[Any]]] = deque()
    pool = None
    try:
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx: Any = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(["toolforge.validate.record_checks", "toolforge.validate.parallel",
                                        "toolforge.validate._worker_boot"])
        else:  # Windows: no forkserver; spawn starts clean interpreters too
            ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=initargs)
        pending.append(pool.submit(fn, first))  # starts the forkserver and the first worker
    except (OSError, NotImplementedError, ImportError) as exc:  # no process semaphores here (some sandboxes)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        log.warning("validation worker processes cannot start here (%s): checking in this process", exc)
        yield from _here(fn, chain([first], chunks), *initargs)
        return
    except BaseException:  # interrupted while the first worker starts: let it start, then stop it
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        raise
    ok = False
    try:
        for chunk in chunks:
            pending.append(pool.submit(fn, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        ok = True
    except BrokenProcessPool as exc:
        raise WorkerDied("a validation worker process died (killed, or out of memory)",
                         hint="run again with fewer --workers (results already stored are kept)") from exc
    finally:
        # wait, even when interrupted: a worker still starting must find the pool's queues and semaphores
        # there (the parent exiting under it makes it print a traceback); what runs is one chunk per worker
        pool.shutdown(wait=True, cancel_futures=not ok)

