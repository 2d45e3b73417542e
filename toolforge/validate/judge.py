"""The semantic check: an LLM judge (any teacher backend) grades a record against its scenario's rubric.

The rubric (``prompts/rubrics.yaml`` beside this module, or a user's file with
the same keys) lists checks per scenario: the common ones (request understood,
arguments right, answer grounded, answer complete) and the scenario's own
(``chained`` for multi_tool_sequential, ``recovery_sound`` for error_recovery,
...). The judge sees the offered tools and the conversation and answers, in
structured output where the backend supports it::

    {"checks": [{"check": "answer_grounded", "verdict": "fail", "reason": "..."}, ...],
     "score": 1-5, "verdict": "pass"|"fail", "reason": "..."}

Each failed check becomes a ``judge_reject`` issue (error) naming the check;
an unreadable reply a ``judge_error`` warning. A judge that answers only
``{"verdict", "reason"}`` is still read (one verdict, no checks). In a store,
``judge_verdicts`` keeps the verdict, reason, score and rubric hash per record
and judge, ``judge_checks`` the verdict and reason per check; a record already
judged by the same judge under the same rubric is not asked again (the cost is
paid once). :func:`judge_agreement` compares the judge's verdicts with human
review verdicts (``toolforge review status`` shows it once both exist).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from toolforge.validate.issues import Issue

log = logging.getLogger(__name__)

CHECK_VERDICTS = ("pass", "fail", "na")
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"verdict": {"type": "string", "enum": ["pass", "fail"]},
                   "reason": {"type": "string", "maxLength": 400}},
    "required": ["verdict", "reason"],
    "additionalProperties": False,
}
MAX_TEXT = 1500
PROMPTS = Path(__file__).parent / "prompts"


@lru_cache(maxsize=1)
def _template() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    return env.from_string((PROMPTS / "judge.j2").read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def load_rubrics(path: str | None = None) -> dict[str, Any]:
    """The packaged rubric, with a user's file (same keys) merged over it: ``{"common": {...}, "scenarios": {...}}``."""
    import yaml

    from toolforge.errors import InputError

    base: dict[str, Any] = yaml.safe_load((PROMPTS / "rubrics.yaml").read_text("utf-8"))
    if path is None:
        return base
    try:
        mine = yaml.safe_load(Path(path).read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(f"rubric file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not YAML ({str(exc).splitlines()[0]})") from None
    ok = isinstance(mine, dict) and set(mine) <= {"common", "scenarios"} and all(
        isinstance(v, dict) for v in mine.values())
    if not ok:
        raise InputError(f"{path}: a rubric file is a mapping with 'common' and/or 'scenarios' "
                         "(check id -> question; scenarios: scenario -> {check id -> question})")
    out = {"common": dict(mine.get("common", base["common"])), "scenarios": dict(base["scenarios"])}
    out["scenarios"].update(mine.get("scenarios", {}))
    return out


def rubric_for(scenario: Any, rubrics: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """``[(check id, question)]`` for one scenario: the common checks, then the scenario's own."""
    r = rubrics or load_rubrics()
    checks = dict(r.get("common") or {})
    checks.update((r.get("scenarios") or {}).get(scenario) or {})
    return [(str(k), str(v)) for k, v in checks.items()]


def rubric_sha(rubrics: dict[str, Any] | None = None) -> str:
    r = rubrics or load_rubrics()
    return hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest()[:12]


def judge_schema(check_ids: list[str]) -> dict[str, Any]:
    """The structured-output schema of a rubric reply (check ids as an enum)."""
    return {
        "type": "object",
        "properties": {
            "checks": {"type": "array", "maxItems": len(check_ids), "items": {
                "type": "object",
                "properties": {"check": {"type": "string", "enum": check_ids},
                               "verdict": {"type": "string", "enum": list(CHECK_VERDICTS)},
                               "reason": {"type": "string", "maxLength": 300}},
                "required": ["check", "verdict", "reason"], "additionalProperties": False}},
            "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
            **VERDICT_SCHEMA["properties"],
        },
        "required": ["checks", "score", "verdict", "reason"],
        "additionalProperties": False,
    }


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " [...]"


def judge_prompt(record: Any, rubrics: dict[str, Any] | None = None) -> str:
    """The judge's prompt for one record (a Record or a record dict)."""
    d = record.to_dict() if hasattr(record, "to_dict") and not isinstance(record, dict) else record
    tools = [{"name": t["function"]["name"], "description": t["function"].get("description", "")}
             for t in d.get("tools") or []]
    msgs = []
    for m in d.get("messages") or []:
        calls = [f"{(c.get('function') or {}).get('name')}({json.dumps((c.get('function') or {}).get('arguments'), ensure_ascii=False)})"
                 for c in m.get("tool_calls") or []]
        msgs.append({"role": m.get("role"), "text": _clip(m.get("content") or ""), "calls": calls})
    checks = [{"id": cid, "question": q} for cid, q in rubric_for(d.get("scenario"), rubrics)]
    return str(_template().render(tools=tools, messages=msgs, checks=checks, scenario=d.get("scenario") or "unknown"))


@dataclass
class Judgement:
    """One record's grade: overall verdict (pass, fail, error), reason, score (1-5 or None), per-check verdicts."""

    verdict: str
    reason: str
    score: float | None = None
    checks: list[tuple[str, str, str]] = field(default_factory=list)  # (check id, pass|fail|na, reason)

    @property
    def failed_checks(self) -> list[tuple[str, str, str]]:
        return [c for c in self.checks if c[1] == "fail"]


def parse_judgement(text: str, check_ids: list[str] | None = None) -> Judgement:
    """A :class:`Judgement` from the judge's reply; verdict ``error`` when it cannot be read.

    Checks the rubric does not name are dropped; a failed check makes the verdict ``fail``
    whatever the overall field says (the judge contradicting itself is read strictly).
    """
    from toolforge.formats._common import ParseError, loads_tolerant

    s = text.strip()
    start = s.find("{")
    value: Any = None
    if start >= 0:
        try:
            value = loads_tolerant(s[start: s.rfind("}") + 1] if "}" in s[start:] else s[start:])
        except (ValueError, ParseError):  # ParseError: NaN, too deep or too large (never repaired)
            value = None
    if not isinstance(value, dict):
        return Judgement("error", f"unreadable judge reply: {s[:120]!r}")
    checks: list[tuple[str, str, str]] = []
    raw = value.get("checks")
    if isinstance(raw, dict):  # {"check_id": {"verdict": ..., "reason": ...}} or {"check_id": "pass"}
        raw = [{"check": k, **(v if isinstance(v, dict) else {"verdict": v})} for k, v in raw.items()]
    for c in raw if isinstance(raw, list) else []:
        if not isinstance(c, dict):
            continue
        cid, cv = str(c.get("check", "")), str(c.get("verdict", "")).lower()
        if cv in CHECK_VERDICTS and cid and (check_ids is None or cid in check_ids):
            checks.append((cid, cv, str(c.get("reason") or "")[:300]))
    overall = str(value.get("verdict", "")).lower()
    if overall not in ("pass", "fail") and not checks:
        return Judgement("error", f"unreadable judge reply: {s[:120]!r}")
    if any(v == "fail" for _, v, _ in checks):
        overall = "fail"
    elif overall not in ("pass", "fail"):
        overall = "pass"
    score = value.get("score")
    score_f = float(score) if isinstance(score, int | float) and not isinstance(score, bool) and 1 <= score <= 5 else None
    reason = str(value.get("reason") or "")[:400]
    if overall == "fail" and not reason:
        reason = "; ".join(f"{c}: {r}" for c, v, r in checks if v == "fail")[:400]
    return Judgement(overall, reason, score_f, checks)


def parse_verdict(text: str) -> tuple[str, str]:
    """``(verdict, reason)`` from the judge's reply; verdict ``error`` when it cannot be read."""
    j = parse_judgement(text)
    return j.verdict, j.reason


class Judge:
    """Judges records one at a time through a teacher; :meth:`close` when done."""

    def __init__(self, teacher: Any, *, spec: str | None = None, max_tokens: int = 700,
                 rubrics: dict[str, Any] | None = None) -> None:
        self.teacher = teacher
        self.spec = spec or getattr(teacher, "name", "judge")
        self.max_tokens = max_tokens
        self.rubrics = rubrics or load_rubrics()
        self.rubric_sha = rubric_sha(self.rubrics)
        self._loop = asyncio.new_event_loop()
        self.verdicts: list[tuple[str | None, str, str]] = []  # (record id, verdict, reason)
        self.judgements: list[tuple[str | None, Judgement]] = []

    @classmethod
    def from_spec(cls, spec: str, *, rubric_path: str | None = None, **options: Any) -> Judge:
        from toolforge.backends import load_teacher

        rubrics = load_rubrics(rubric_path)  # a bad rubric file fails before a model is loaded
        return cls(load_teacher(spec, **options), spec=spec, rubrics=rubrics)

    async def _ask(self, prompt: str, check_ids: list[str]) -> str:
        from toolforge.backends import ChatRequest

        req = ChatRequest(
            messages=[{"role": "user", "content": prompt}],
            response_schema=judge_schema(check_ids) if getattr(self.teacher, "supports_schema", False) else None,
            temperature=0.0, max_tokens=self.max_tokens, seed=0,
        )
        resp = await self.teacher.chat(req)
        return str(resp.text or "")

    def judge(self, record: Any) -> Judgement:
        """The :class:`Judgement` of one record (verdict ``error`` when the judge failed)."""
        from toolforge.errors import ToolforgeError

        d = record.to_dict() if hasattr(record, "to_dict") and not isinstance(record, dict) else record
        check_ids = [cid for cid, _ in rubric_for(d.get("scenario"), self.rubrics)]
        try:
            text = self._loop.run_until_complete(self._ask(judge_prompt(d, self.rubrics), check_ids))
        except ToolforgeError as exc:
            return Judgement("error", f"judge failed: {exc.message}"[:400])
        except Exception as exc:  # a backend's transport error must not stop a whole validation run
            log.warning("judge failed on a record: %s", exc)
            return Judgement("error", f"judge failed: {type(exc).__name__}: {exc}"[:400])
        return parse_judgement(text, check_ids)

    def verdict(self, record: Any) -> tuple[str, str]:
        """``(verdict, reason)`` for one record: pass, fail, or error (the judge failed)."""
        j = self.judge(record)
        return j.verdict, j.reason

    def check(self, record: Any) -> list[Issue]:
        j = self.judge(record)
        rid = getattr(record, "id", None)
        self.verdicts.append((rid, j.verdict, j.reason))
        self.judgements.append((rid, j))
        if j.verdict == "fail":
            failed = j.failed_checks
            if not failed:
                return [Issue("judge_reject", "$", f"{self.spec}: {j.reason}")]
            return [Issue("judge_reject", f"$.judge.{cid}", f"{self.spec}: {cid}: {why}") for cid, _, why in failed]
        if j.verdict == "error":
            return [Issue("judge_error", "$", j.reason, severity="warning")]
        return []

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self.teacher.aclose())
        finally:
            self._loop.close()


def judge_store(store: Any, selection: Any = None, *, teacher: Any, results: list[Any] | None = None,
                batch_size: int = 100, rubric_path: str | None = None, rejudge: bool = False,
                skip_invalid: bool = True) -> Any:
    """Judge the selected records; issues go to stage ``judge``, verdicts to ``judge_verdicts`` and ``judge_checks``.

    The judge is the costly check, so it is not asked about what is already settled: a record this
    judge already judged under the same rubric (unless ``rejudge``), and a record whose schema stage
    (structure, arguments, grounding) found errors (unless ``skip_invalid`` is False).
    """
    from toolforge.validate.run import Summary

    judge = (Judge.from_spec(teacher, rubric_path=rubric_path) if isinstance(teacher, str)
             else Judge(teacher, rubrics=load_rubrics(rubric_path)))
    summary = Summary("judge")
    batch: list[tuple[str, list[Issue]]] = []
    rows: list[tuple[Any, ...]] = []
    check_rows: list[tuple[Any, ...]] = []
    has_checks = store.has_table("judge_checks")
    done: set[str] = set()
    if not rejudge and has_checks:
        done = {r for (r,) in store.con.execute(
            "SELECT record_id FROM judge_verdicts WHERE judge = ? AND rubric_sha = ? AND verdict <> 'error'",
            [judge.spec, judge.rubric_sha]).fetchall()}
    if skip_invalid:
        done |= {r for (r,) in store.con.execute(
            "SELECT record_id FROM validations WHERE stage = 'schema' AND NOT ok").fetchall()}

    def flush() -> None:
        store.replace_issues("judge", batch)
        with store.transaction() as con:
            if has_checks:
                con.executemany(
                    "INSERT INTO judge_verdicts (record_id, judge, verdict, reason, score, rubric_sha) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (record_id, judge) DO UPDATE SET verdict = excluded.verdict, "
                    "reason = excluded.reason, score = excluded.score, rubric_sha = excluded.rubric_sha, "
                    "judged_at = now()", rows)
                con.executemany("DELETE FROM judge_checks WHERE record_id = ? AND judge = ?",
                                [(r[0], r[1]) for r in rows])
                if check_rows:
                    con.executemany("INSERT INTO judge_checks (record_id, judge, check_id, verdict, reason) "
                                    "VALUES (?, ?, ?, ?, ?)", check_rows)
            else:
                con.executemany(
                    "INSERT INTO judge_verdicts (record_id, judge, verdict, reason) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (record_id, judge) DO UPDATE SET verdict = excluded.verdict, "
                    "reason = excluded.reason, judged_at = now()", [r[:4] for r in rows])
        batch.clear()
        rows.clear()
        check_rows.clear()

    try:
        for rec in store.iter_records(selection):
            if rec.id in done:
                continue
            issues = judge.check(rec)
            _, j = judge.judgements[-1]
            summary.add(issues)
            batch.append((rec.id, issues))
            rows.append((rec.id, judge.spec, j.verdict, j.reason, j.score, judge.rubric_sha))
            seen: set[str] = set()
            for cid, v, why in j.checks:
                if cid not in seen:
                    seen.add(cid)
                    check_rows.append((rec.id, judge.spec, cid, v, why))
            if results is not None and issues:
                results.append((rec.id, issues))
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    finally:
        judge.close()
    return summary


def judge_agreement(store: Any) -> dict[str, Any]:
    """How often each judge agrees with human review (accept ~ pass; reject or needs_fix ~ fail).

    ``{"available": False, "reason"}`` until both judge verdicts and review verdicts exist for
    some record; otherwise per judge: records compared, agreement, Cohen's kappa, the 2x2
    counts, and per rubric check how often it failed on records humans accepted vs rejected.
    """
    if not (store.has_table("judge_verdicts") and store.has_table("review_verdicts")):
        return {"available": False, "reason": "no judge or review tables"}
    rows = store.con.execute(
        "SELECT j.judge, j.record_id, j.verdict, r.verdict FROM judge_verdicts j "
        "JOIN review_verdicts r ON r.record_id = j.record_id WHERE j.verdict IN ('pass', 'fail') "
        "ORDER BY 1, 2").fetchall()
    if not rows:
        return {"available": False, "reason": "no record has both a judge verdict and a review verdict"}
    per: dict[str, Any] = {}
    for judge, _rid, jv, hv in rows:
        t = per.setdefault(judge, {"pass_accept": 0, "pass_reject": 0, "fail_accept": 0, "fail_reject": 0})
        t[f"{jv}_{'accept' if hv == 'accept' else 'reject'}"] += 1
    out: dict[str, Any] = {"available": True, "judges": {}}
    for judge, t in per.items():
        n = sum(t.values())
        agree = t["pass_accept"] + t["fail_reject"]
        p_j = (t["pass_accept"] + t["pass_reject"]) / n
        p_h = (t["pass_accept"] + t["fail_accept"]) / n
        pe = p_j * p_h + (1 - p_j) * (1 - p_h)
        kappa = None if pe >= 1 else round((agree / n - pe) / (1 - pe), 4)
        entry: dict[str, Any] = {"records": n, "agreement": round(agree / n, 4), "kappa": kappa, "counts": t}
        if store.has_table("judge_checks"):
            entry["checks"] = [
                {"check": c, "failed_on_accepted": int(fa), "accepted": int(na), "failed_on_rejected": int(fr),
                 "rejected": int(nr)}
                for c, fa, na, fr, nr in store.con.execute(
                    "SELECT c.check_id, count(*) FILTER (WHERE c.verdict = 'fail' AND r.verdict = 'accept'), "
                    "count(*) FILTER (WHERE r.verdict = 'accept'), "
                    "count(*) FILTER (WHERE c.verdict = 'fail' AND r.verdict <> 'accept'), "
                    "count(*) FILTER (WHERE r.verdict <> 'accept') "
                    "FROM judge_checks c JOIN review_verdicts r ON r.record_id = c.record_id "
                    "WHERE c.judge = ? GROUP BY 1 ORDER BY 1", [judge]).fetchall()]
        out["judges"][judge] = entry
    return out
