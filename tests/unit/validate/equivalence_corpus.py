"""A stored corpus of records with the issues the validator gave them before the speed work (issue #17).

``equivalence_golden.jsonl.gz`` holds one line per record: ``{"record": ..., "issues": [[code, path, message,
severity], ...]}``. It was first written by the straightforward implementation at commit c449b24, before the
validation speed work (issue #17), and every speed-up was checked against that file; it is rewritten only
when a change of results is intended (d995f0c: repeated_call, URL arguments, request_names_tool, with their
planted pairs added to the corpus; then retry_unchanged no longer flags the same call after a transient
error, so the unchanged-retry mutants plant an argument error instead of a timeout, and every record kept
its issue codes; then figures in arithmetic expressions must be grounded, a planted pair was added, and the
mutants were seeded per record, which rewrote them once, issues by the validator of that commit, itself checked
record for record against the file before). ``test_validate_equivalence.py`` checks that today's validator gives the
same issue list, in the same order, for every record.

The records: the planted-fault grounding corpus (clean and faulty twins, held-out pairs included), the
validator tests' hand-written records, ``examples/sample.jsonl`` and the benchmark's variations of it, a
sample of every BFCL file in ``/work/shared/bfcl`` imported with ``toolforge.importers.bfcl`` (stored in the
golden file, so the test does not need the BFCL folder), and seeded mutants of all of these with faults of
meaning and form planted (a wrong figure, an invented argument, a dropped result, a duplicated call, an
unchanged retry, a claimed lookup, non-Latin requests, scenario names and prompt text in the request, ...).

``python -m tests.unit.validate.equivalence_corpus`` rewrites the golden file from the validator as it is
now: run it only when a change of the checks' results is intended (and say so in the commit).
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
GOLDEN = HERE / "equivalence_golden.jsonl.gz"
BFCL = Path("/work/shared/bfcl")
SEED = 17

_NUM = re.compile(r"\d+(?:\.\d+)?")


def base_records() -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_validate import make_records  # type: ignore[import-not-found]

    from tests.unit.validate import grounding_corpus, records

    out: list[dict[str, Any]] = list(grounding_corpus.records())
    for fn in (records.single, records.parallel, records.sequential, records.no_tool, records.error_recovery,
               records.reasoning, records.complex_steps):
        out.append(fn())
    out += [json.loads(x) for x in (ROOT / "examples" / "sample.jsonl").read_text("utf-8").splitlines() if x.strip()]
    out += [json.loads(x) for x in make_records(60)]
    out += bfcl_records()
    return out


def bfcl_records(every: int = 8) -> list[dict[str, Any]]:
    """Every ``every``-th entry of each BFCL file, as toolforge records (entries that do not import are left out)."""
    from toolforge.importers import ConversionError
    from toolforge.importers.bfcl import bind_source

    out: list[dict[str, Any]] = []
    for path in sorted(BFCL.glob("BFCL_v4_*.json")):
        conv = bind_source(path)
        for k, line in enumerate(path.read_text("utf-8").splitlines()):
            if k % every or not line.strip():
                continue
            try:
                out.append(conv(json.loads(line)).to_dict())
            except (ConversionError, ValueError, TypeError):
                continue
    return out


# ----------------------------------------------------------------------------------------------
# mutants
def _final(r: dict[str, Any]) -> dict[str, Any] | None:
    ms = [m for m in r["messages"] if m.get("role") == "assistant" and not m.get("tool_calls")]
    return ms[-1] if ms else None


def _calls(r: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for m in r["messages"] if m.get("role") == "assistant" for c in m.get("tool_calls") or []]


def _args(c: dict[str, Any]) -> dict[str, Any]:
    fn = c.get("function") or c
    a = fn.get("arguments")
    if isinstance(a, str):
        try:
            a = json.loads(a)
        except ValueError:
            a = {}
        fn["arguments"] = a
    if not isinstance(a, dict):
        a = fn["arguments"] = {}
    return a


def _first(r: dict[str, Any], role: str) -> dict[str, Any] | None:
    return next((m for m in r["messages"] if m.get("role") == role), None)


def _wrong_figure(r: dict[str, Any], rng: random.Random) -> None:
    f = _final(r)
    if f and isinstance(f.get("content"), str):
        f["content"] = _NUM.sub(lambda m: str(int(float(m.group(0)) * 3 + 7)), f["content"], count=1) or "It is 77."
        if not _NUM.search(f["content"]):
            f["content"] += f" The total is {rng.randint(11, 999)}.{rng.randint(0, 9)} dollars."


def _invented_name(r: dict[str, Any], rng: random.Random) -> None:
    f = _final(r)
    if f and isinstance(f.get("content"), str):
        f["content"] += rng.choice([" Ask Zorbland Quixley for details.", " Order ZX-99812 is on its way.",
                                    " Write to nobody@example.org.", " See report_final.pdf at 4:45 pm."])


def _invented_arg(r: dict[str, Any], rng: random.Random) -> None:
    cs = _calls(r)
    if cs:
        a = _args(rng.choice(cs))
        keys = [k for k, v in a.items() if isinstance(v, str | int | float) and not isinstance(v, bool)]
        if keys:
            k = rng.choice(keys)
            a[k] = rng.choice(["Quxville Harbour", "ZQ-4471", 8675.5, "frobnicate widgets", 4242])


def _drop_result(r: dict[str, Any], rng: random.Random) -> None:
    idx = [i for i, m in enumerate(r["messages"]) if m.get("role") == "tool"]
    if idx:
        del r["messages"][rng.choice(idx)]


def _duplicate_call(r: dict[str, Any], rng: random.Random) -> None:
    for i, m in enumerate(r["messages"]):
        if m.get("role") == "assistant" and m.get("tool_calls"):
            c = copy.deepcopy(m["tool_calls"][0])
            if isinstance(c.get("id"), str):
                c["id"] += "b"
                res = next((x for x in r["messages"] if x.get("tool_call_id") == m["tool_calls"][0].get("id")), None)
                if res is not None:
                    r["messages"].insert(i + 1 + len(m["tool_calls"]), {**copy.deepcopy(res), "tool_call_id": c["id"]})
            m["tool_calls"].append(c)
            return


def _unchanged_retry(r: dict[str, Any], rng: random.Random) -> None:
    for i, m in enumerate(r["messages"]):
        if m.get("role") == "tool":
            good = m.get("content")
            # an error about the arguments (the same call after a timeout would be the right retry)
            m["content"] = json.dumps({"error": "invalid_argument", "message": "the service rejected these arguments"})
            call = next((c for x in r["messages"][:i] for c in x.get("tool_calls") or []
                         if c.get("id") == m.get("tool_call_id")), None)
            if call is None:
                return
            again = copy.deepcopy(call)
            again["id"] = f"{call.get('id')}r"
            r["messages"][i + 1:i + 1] = [{"role": "assistant", "content": "", "tool_calls": [again]},
                                          {"role": "tool", "tool_call_id": again["id"], "name": m.get("name"),
                                           "content": good}]
            r["scenario"] = "error_recovery"
            return


def _claimed_lookup(r: dict[str, Any], rng: random.Random) -> None:
    user = _first(r, "user")
    f = _final(r)
    r["messages"] = [m for m in r["messages"] if m.get("role") in ("system", "user")]
    r["messages"].append({"role": "assistant", "content": rng.choice([
        "I checked the latest data: it is 18 degrees right now.", "According to the latest search results, yes.",
        "The answer is 42.", (f or {}).get("content") or "Done."])})
    r["scenario"] = "no_tool_needed"
    if user is not None and isinstance(user.get("content"), str) and rng.random() < 0.5:
        user["content"] += " What is it right now, today?"


def _non_latin(r: dict[str, Any], rng: random.Random) -> None:
    user = _first(r, "user")
    if user is not None:
        user["content"] = rng.choice(["Какая погода в Осло сегодня?", "東京の天気を教えてください。",
                                      "ما هو سعر السهم اليوم؟"]) + (" " + str(user.get("content")) if rng.random() < 0.3 else "")


def _prompt_text(r: dict[str, Any], rng: random.Random) -> None:
    from toolforge.validate import provenance

    idx = provenance._index(None)
    user = _first(r, "user")
    if user is None:
        return
    choice = rng.randrange(4)
    if choice == 0:
        user["content"] = f"{user.get('content')} (multi_tool_parallel)"
    elif choice == 1 and idx.personas:
        user["content"] = " ".join(rng.choice(idx.personas))
    elif choice == 2 and idx.examples:
        where, toks = rng.choice(idx.examples)
        f = _final(r) if "(answer)" in where else user
        if f is not None:
            f["content"] = " ".join(toks)
    else:
        sh = sorted(idx.prompt_shingles)
        if sh:
            user["content"] = f"{user.get('content')} " + " ".join(rng.choice(sh))


def _swap_enum(r: dict[str, Any], rng: random.Random) -> None:
    tools = {((t.get("function") or t).get("name")): (t.get("function") or t) for t in r.get("tools") or []
             if isinstance(t, dict)}
    for c in _calls(r):
        fn = c.get("function") or c
        props = ((tools.get(fn.get("name")) or {}).get("parameters") or {}).get("properties") or {}
        for k, ps in props.items():
            if isinstance(ps, dict) and isinstance(ps.get("enum"), list) and len(ps["enum"]) >= 2:
                a = _args(c)
                a[k] = ps["enum"][1] if a.get(k) == ps["enum"][0] else ps["enum"][0]
                user = _first(r, "user")
                if user is not None and isinstance(user.get("content"), str) and rng.random() < 0.6:
                    user["content"] += f" Please use {ps['enum'][-1]}."
                return


def _result_numbers(r: dict[str, Any], rng: random.Random) -> None:
    for m in r["messages"]:
        if m.get("role") == "tool" and isinstance(m.get("content"), str):
            m["content"] = _NUM.sub(lambda x: str(round(float(x.group(0)) * 1.7 + 3, 1)), m["content"])


def _form(r: dict[str, Any], rng: random.Random) -> None:
    """A fault of form: content as parts, a think block, string arguments, a bad role, a stray id."""
    choice = rng.randrange(6)
    f = _final(r)
    if choice == 0 and f is not None and isinstance(f.get("content"), str):
        f["content"] = [{"type": "text", "text": f["content"][:20]}, {"type": "text", "text": f["content"][20:]}]
    elif choice == 1 and f is not None and isinstance(f.get("content"), str):
        f["content"] = rng.choice(["<think>Add 4 and 5 to get 9.</think>", "<think>stray"]) + f["content"]
    elif choice == 2:
        for c in _calls(r):
            fn = c.get("function") or c
            fn["arguments"] = json.dumps(fn.get("arguments")) if rng.random() < 0.7 else "{not json"
    elif choice == 3:
        r["messages"].insert(1, {"role": "robot", "content": "beep"})
    elif choice == 4:
        for m in r["messages"]:
            if m.get("role") == "tool":
                m["tool_call_id"] = "nope"
                break
    else:
        r["scenario"] = rng.choice(["single_tool_call", "multi_tool_parallel", "multi_tool_sequential",
                                    "complex_multi_step", "reasoning_heavy", "no_tool_needed", "error_recovery"])


def _borrow(r: dict[str, Any], rng: random.Random, pool: list[dict[str, Any]]) -> None:
    """The final answer or the user request of another record (an answer that belongs elsewhere)."""
    other = rng.choice(pool)
    f, g = _final(r), _final(other)
    if rng.random() < 0.5 and f is not None and g is not None:
        f["content"] = copy.deepcopy(g.get("content"))
    else:
        u, v = _first(r, "user"), _first(other, "user")
        if u is not None and v is not None:
            u["content"] = copy.deepcopy(v.get("content"))


MUTATIONS = (_wrong_figure, _invented_name, _invented_arg, _drop_result, _duplicate_call, _unchanged_retry,
             _claimed_lookup, _non_latin, _prompt_text, _swap_enum, _result_numbers, _form)


def mutants(base: list[dict[str, Any]], per_record: int = 3, seed: int = SEED) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for r in base:
        # seeded by the record itself, so that a record added to the corpus leaves the other mutants as they were
        rng = random.Random(f"{seed}:{json.dumps(r, sort_keys=True, ensure_ascii=False)}")
        for _ in range(per_record):
            m = copy.deepcopy(r)
            m.pop("id", None)
            for fn in rng.sample(MUTATIONS, rng.choice((1, 1, 2, 3))):
                fn(m, rng)
            if rng.random() < 0.1:
                _borrow(m, rng, base)
            out.append(m)
    return out


def corpus() -> list[dict[str, Any]]:
    base = base_records()
    return base + mutants(base)


def issue_rows(issues: list[Any]) -> list[list[str]]:
    return [[i.code, i.path, i.message, i.severity] for i in issues]


def write_golden() -> int:
    from toolforge.validate.record_checks import RecordValidator

    v = RecordValidator()
    rows = corpus()
    with gzip.open(GOLDEN, "wt", encoding="utf-8", compresslevel=9) as fh:
        for r in rows:
            # key order kept: the order of the issues follows the order of a record's keys
            fh.write(json.dumps({"record": r, "issues": issue_rows(v.validate(r))}, ensure_ascii=False) + "\n")
    return len(rows)


def read_golden() -> list[dict[str, Any]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


if __name__ == "__main__":
    print(f"wrote {GOLDEN} ({write_golden()} records)")
