"""Grounding checks: a record can be well-formed and still teach the wrong thing (issue #15).

Deterministic, cheap (precompiled regexes, sets of word stems and numbers per
message, built once per record), and on by default: :class:`RecordValidator`
runs them after the structural checks, so ``toolforge validate`` and
``generate``'s accept step (which calls :func:`toolforge.validate.validate_record`)
both get them. Each check has its own issue code:

| code | what it finds | severity |
|---|---|---|
| ``answer_ungrounded`` | the final answer states a number, id, email or name found in no tool result, call or user message; or pairs a value with the wrong entity | error |
| ``arg_ungrounded`` | an argument value found nowhere: not in the request, an earlier result, the schema (default, enum, description) | error |
| ``unchained_call`` | a later turn of a sequential/complex record uses nothing from earlier results | error |
| ``tool_mismatch`` | the called tool shares nothing with the request while an uncalled offered tool clearly fits it | error |
| ``result_ignored`` | a tool result with data that neither the answer nor a later call uses | error |
| ``duplicate_parallel_call`` | the same call (name and arguments) twice in one assistant turn | error |
| ``option_ignored`` | the user asked for a unit or option (an enum value of the called tool) and the call set another | error |
| ``live_data_no_call`` | a no_tool_needed record asks for live data that an offered tool serves | error |
| ``claimed_lookup`` | an answer claims a lookup ("I checked ...") in a record that made no call | error |
| ``retry_unchanged`` | a call repeats, unchanged, an earlier call whose result was an error (not a transient one: unavailable, timeout) | error |
| ``repeated_call`` | the next turn repeats the previous turn's only call, unchanged, and gets the same result: nothing learned | error |

What counts as grounded is lenient where clean data varies (rounding, unit
conversions, sums and differences of two figures, word numbers, times in 12 h
or 24 h form, small counts, dates an assistant resolves from "tomorrow") and
strict where faults hide (ids, emails, amounts, names). The precision of each
check is measured on a planted corpus and on clean data nobody here wrote; see
``tests/unit/validate/test_grounding.py`` and the README.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from toolforge.validate import jsontext
from toolforge.validate.evidence import (
    CAP,
    CLAUSE,
    CURRENCY_BEFORE,
    DATEISH,
    EMAIL,
    ENGLISH,
    FILENAME,
    GENERIC_NAMES,
    HEDGE,
    ID,
    NON_ALNUM,
    NUM,
    NUM_UNIT,
    SENT_START,
    STOP,
    TIME,
    UNIT_AFTER,
    VAGUE,
    WORD,
    Bag,
    ToolInfo,
    bag,
    bag_compact,
    cached_stem,
    decimals,
    drop_dates,
    drop_times,
    fit,
    id_grounded,
    may_hold_time,
    merge,
    num,
    num_close,
    num_grounded,
    word_grounded,
)
from toolforge.validate.issues import Issue

#: the codes of these checks (descriptions in :data:`toolforge.validate.issues.CODES`)
GROUNDING_CODES: tuple[str, ...] = ("answer_ungrounded", "arg_ungrounded", "unchained_call", "tool_mismatch",
                                    "result_ignored", "duplicate_parallel_call", "option_ignored", "live_data_no_call",
                                    "claimed_lookup", "retry_unchanged", "repeated_call")


# ----------------------------------------------------------------------------------------------
# the record as the checks see it
@dataclass(slots=True)
class _Call:
    turn: int          # message index of the assistant turn
    name: str
    args: dict[str, Any]
    cid: str | None
    result: str | None = None
    result_idx: int = -1
    error: bool = False
    _canon: str | None = None

    @property
    def canon(self) -> str:
        if self._canon is None:
            self._canon = _canon(self.args)
        return self._canon


def _leaves(value: Any, path: str, out: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            _leaves(v, f"{path}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _leaves(v, f"{path}[{i}]", out)
    else:
        out.append((path, value))
    return out


_CANON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)  # what json.dumps builds per call


def _canon(args: Any) -> str:
    try:
        return _CANON.encode(args)  # json.dumps(args, sort_keys=True, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(args)


_ACK_WORDS = frozenset({"ok", "okay", "success", "succeeded", "sent", "done", "created", "updated", "deleted",
                        "scheduled", "booked", "confirmed", "saved", "written", "queued", "accepted", "completed",
                        "true", "false", "none", "null", "removed", "added", "cancelled", "canceled"})
_ACK_KEYS = re.compile(r"(?:^|_)(?:id|ok|success|status|message_id|event_id|created|updated|code|bytes_written|"
                       r"timestamp)$")


_LIVE = re.compile(r"\b(?:right now|currently|current|today'?s?|tonight|at the moment|latest|live|real[- ]time|"
                   r"this (?:morning|afternoon|evening|week)|tomorrow'?s?|forecast|up[- ]to[- ]date|as of now|now)\b", re.I)
_LOOKUP = re.compile(r"\b(?:I(?:'ve| have)?|we(?:'ve| have)?)\s+(?:just\s+)?(?:checked|looked (?:it |that )?up|searched|"
                     r"fetched|queried|retrieved|pulled up|ran|called|consulted|verified)\b"
                     r"|\baccording to (?:the|my) (?:latest |current |live )?(?:search|lookup|data|results|tool|records)\b"
                     r"|\b(?:the|my) (?:search|lookup|query|tool|api) (?:returned|shows|showed|says|found)\b", re.I)


def check_grounding(scenario: Any, messages: list[Any], shape: Any, tools: dict[str, ToolInfo]) -> list[Issue]:
    """Grounding issues of one record whose structure was already walked (``shape`` from RecordValidator)."""
    users: list[tuple[int, str]] = []
    system = ""
    answers: list[tuple[int, str]] = []  # assistant texts (visible), by index
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            continue
        role = m.get("role")
        c = m.get("content")
        text = c if isinstance(c, str) else ("".join(p.get("text", "") for p in c if isinstance(p, dict)
                                                     and isinstance(p.get("text"), str)) if isinstance(c, list) else "")
        if role == "user":
            users.append((i, text))
        elif role == "system" and i == 0:
            system = text
        elif role == "assistant" and text.strip():
            if "</think>" in text:
                text = text.rsplit("</think>", 1)[1]
            answers.append((i, text))
    if not users:
        return []
    issues: list[Issue] = []
    calls = _calls(messages, shape)
    user_bags = [(i, bag(t)) for i, t in users]
    request = merge([b for _, b in user_bags])
    final = shape.final_answer if isinstance(shape.final_answer, str) else None

    if not calls:
        if final:
            if _LOOKUP.search(final):
                issues.append(Issue("claimed_lookup", f"messages[{len(messages) - 1}].content",
                                    "the answer claims a lookup or tool run, but no tool was called"))
            if scenario == "no_tool_needed" and tools and not _DECLINE.search(final):
                issues.extend(_live_data(users, request, tools))
        return issues

    if any(c.error for c in calls):
        _retry_unchanged(calls, issues)
    _repeated(calls, issues)
    if len({c.turn for c in calls}) < len(calls):
        _duplicate_parallel(calls, issues)
    result_bags: dict[int, Bag] = {c.result_idx: bag(c.result) for c in calls if c.result is not None}
    sys_bag = _Lazy(system)
    _args_grounded(calls, user_bags, sys_bag, result_bags, tools, issues)
    _tool_fit(calls, user_bags, tools, issues)
    _options(calls, user_bags, tools, issues)
    if scenario in ("multi_tool_sequential", "complex_multi_step"):
        _chained(calls, request, result_bags, issues)
    if final:
        last = max(i for i, _ in answers) if answers else len(messages) - 1
        _answer(final, last, calls, request, sys_bag, result_bags, tools, issues)
        _results_used(calls, answers, result_bags, issues)
    return issues


def _calls(messages: list[Any], shape: Any) -> list[_Call]:
    out: list[_Call] = []
    by_id: dict[str, _Call] = {}
    for idx, turn in shape.call_turns:
        for c in turn:
            args = c.get("arguments") if isinstance(c.get("arguments"), dict) else {}
            call = _Call(idx, c["name"], args, c.get("id"))
            out.append(call)
            if isinstance(call.cid, str):
                by_id[call.cid] = call
    if not out:
        return out
    from toolforge.validate.scenario import is_error_result

    open_calls = list(out)
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") != "tool":
            continue
        content = m.get("content")
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False) if content else ""
        tcid = m.get("tool_call_id")
        target = by_id.get(tcid) if isinstance(tcid, str) else None
        if target is None or target.result is not None:
            name = m.get("name")
            target = next((c for c in open_calls if c.turn < i and c.result is None
                           and (not isinstance(name, str) or c.name == name)), None)
        if target is None:
            continue
        target.result, target.result_idx = text, i
        target.error = is_error_result(text)
    return out


# ----------------------------------------------------------------------------------------------
# the checks
def _retry_unchanged(calls: list[_Call], issues: list[Issue]) -> None:
    from toolforge.validate.scenario import is_transient_error

    failed: dict[tuple[str, str], _Call] = {}
    for c in calls:
        key = (c.name, c.canon)
        prev = failed.get(key)
        # after "service unavailable" or a timeout the same call again is the right retry
        if prev is not None and prev.turn < c.turn and not is_transient_error(prev.result or ""):
            issues.append(Issue("retry_unchanged", f"messages[{c.turn}].tool_calls",
                                f"{c.name} is called again with the same arguments after it failed at "
                                f"messages[{prev.result_idx}]: a retry must change something"))
        if c.error:
            failed[key] = c


_RANDOM = re.compile(r"random|roll|dice|shuffle|sample|uuid|generate", re.I)


def _repeated(calls: list[_Call], issues: list[Issue]) -> None:
    """A turn whose call is the previous turn's only call again, unchanged, with the same result.

    Polling (the same status call, a different result) and re-reading after another call (state may
    have changed) are not flagged; a failed call repeated is ``retry_unchanged``'s case.
    """
    by_turn: dict[int, list[_Call]] = {}
    for c in calls:
        by_turn.setdefault(c.turn, []).append(c)
    turns = sorted(by_turn)
    for prev_t, t in zip(turns, turns[1:], strict=False):
        if len(by_turn[prev_t]) != 1:
            continue
        p = by_turn[prev_t][0]
        if p.error or _RANDOM.search(p.name):
            continue
        for c in by_turn[t]:
            if c.name == p.name and c.canon == p.canon and (c.result is None or c.result == p.result):
                issues.append(Issue("repeated_call", f"messages[{t}].tool_calls",
                                    f"{c.name} is called again with the same arguments as at messages[{prev_t}] "
                                    "and nothing changed: the step learns nothing"))


def _duplicate_parallel(calls: list[_Call], issues: list[Issue]) -> None:
    seen: dict[tuple[int, str, str], int] = {}
    for c in calls:
        if _RANDOM.search(c.name):
            continue  # two draws from one distribution are two results
        key = (c.turn, c.name, c.canon)
        if key in seen:
            issues.append(Issue("duplicate_parallel_call", f"messages[{c.turn}].tool_calls",
                                f"{c.name} is called twice with the same arguments in one turn"))
        seen[key] = 1


class _Lazy:
    """A bag built only when first needed (the system prompt is evidence of last resort)."""

    __slots__ = ("text", "_bag")

    def __init__(self, text: str) -> None:
        self.text = text
        self._bag: Bag | None = None

    def get(self) -> Bag | None:
        if self._bag is None and self.text:
            self._bag = bag(self.text)
        return self._bag


def _evidence_for(turn: int, user_bags: list[tuple[int, Bag]], result_bags: dict[int, Bag],
                  cache: dict[int, Bag]) -> Bag:
    hit = cache.get(turn)
    if hit is None:
        parts = [b for i, b in user_bags if i < turn] + [b for i, b in result_bags.items() if i < turn]
        hit = cache[turn] = merge(parts) if parts else Bag("", set(), set(), set())
    return hit


_FREE_TEXT = frozenset({"code", "script", "command", "sql", "query", "expression", "body", "content", "message",
                        "text", "html", "description", "notes", "note", "prompt", "subject", "title", "comment",
                        "summary", "reason", "instructions", "input", "question", "q", "search", "keywords", "pattern",
                        "regex", "template", "data", "payload", "headers", "filter", "formula"})


def _args_grounded(calls: list[_Call], user_bags: list[tuple[int, Bag]], sys_bag: _Lazy,
                   result_bags: dict[int, Bag], tools: dict[str, ToolInfo], issues: list[Issue]) -> None:
    cache: dict[int, Bag] = {}
    if not _latin(" ".join(b.raw for _, b in user_bags)):
        return  # arguments in English translate a request in another script: nothing to match word for word
    for c in calls:
        if c.error:
            continue  # a failed call may hold the malformed input that error_recovery is about
        info = tools.get(c.name)
        ev = _evidence_for(c.turn, user_bags, result_bags, cache)
        for key, value in c.args.items():
            pschema = info.params.get(key, {}) if info else {}
            why = _arg_value_ungrounded(key, value, pschema, info, ev)
            if why and sys_bag.get() is not None:
                why = _arg_value_ungrounded(key, value, pschema, info, merge([ev, sys_bag.get()]))  # type: ignore[list-item]
            if why:
                where = f"messages[{c.turn}].tool_calls.{c.name}.arguments.{key}"
                issues.append(Issue("arg_ungrounded", where, f"{c.name}.{key} = {why}: found in neither the request, "
                                    "an earlier tool result nor the tool's schema"))
                break  # one per call is enough to reject it


def _schema_allows(value: Any, pschema: dict[str, Any]) -> bool:
    if value == pschema.get("default") or value == pschema.get("const"):
        return True
    enum = pschema.get("enum")
    if isinstance(enum, list) and value in enum:
        return True
    items = pschema.get("items")
    return isinstance(items, dict) and isinstance(items.get("enum"), list) and value in items["enum"]


_SENTINELS = frozenset({"dontcare", "any", "none", "n/a", "na", "all", "unknown", "default", "auto", "null", "other"})
_CODE_KEYS = frozenset({"code", "script", "command", "cmd", "sql", "expression", "regex", "pattern", "formula", "shell",
                        "program", "source", "function", "lambda", "equation"})
_NON_LATIN = re.compile(r"[^\x00-\u024f\s\d\W]")


_MATH_KEYS = frozenset({"expression", "formula", "equation"})
# figures an arithmetic expression may hold without a source: time, percent, powers of ten, unit factors
_CONSTANTS = frozenset({12, 24, 30, 31, 52, 60, 100, 360, 365, 366, 1000, 1024, 3600, 5280, 32, 273.15, 1.8, 1.60934,
                        0.621371, 2.54, 0.3048, 3.28084, 2.20462, 0.453592, 3.14159, 3.14, 2.71828})


def _invented_figure(expr: str, ev: Bag, sbag: Any) -> str | None:
    """A figure above 10 in an arithmetic expression that neither the request nor an earlier result holds
    (Qwen2.5-Coder summed "(10 + 20 + 30)" for "the average of a list of numbers" that gave none)."""
    for n in NUM.findall(expr):
        x = abs(num(n))
        if x <= 10 or x in _CONSTANTS or num_grounded(x, 0.5 if x == int(x) else 0.005, ev, derive=False):
            continue
        if sbag is not None and x in sbag.nums:
            continue
        return json.dumps(n)
    return None


def _latin(text: str) -> bool:
    """Whether a request is written mostly in Latin script (arguments in English may translate any other)."""
    return len(_NON_LATIN.findall(text)) * 4 < len(text)


def _initials(words: list[str]) -> str:
    return "".join(w[0] for w in words if w)


def _arg_value_ungrounded(key: str, value: Any, pschema: dict[str, Any], info: ToolInfo | None, ev: Bag) -> str | None:
    """A short quote of the ungrounded part of one argument value, or None when it is grounded."""
    if isinstance(value, dict | list):
        for path, leaf in _leaves(value, "", []):
            sub = pschema.get("items") if isinstance(value, list) else \
                (pschema.get("properties") or {}).get(path.split(".")[1].split("[")[0], {}) if path.startswith(".") else {}
            why = _arg_value_ungrounded(key, leaf, sub if isinstance(sub, dict) else {}, info, ev)
            if why:
                return why
        return None
    if value is None or isinstance(value, bool) or _schema_allows(value, pschema) or "enum" in pschema:
        return None  # (a value outside an enum is the schema check's arg_enum)
    sbag = info.schema_bag if info else None
    if isinstance(value, int | float):
        if info is not None and key not in info.required:
            return None  # an optional knob (volume 50, rating 4.5): the assistant's reasonable choice
        x = abs(float(value))
        if x <= 1 or (x <= 10 and x == int(x) and VAGUE.search(ev.low)):
            return None
        if num_grounded(x, 0.5 if x == int(x) else 0.005, ev) or (sbag and x in sbag.nums):
            return None
        return json.dumps(value)
    if not isinstance(value, str):
        return None
    s = value.strip()
    low = s.lower()
    if key.lower() in _MATH_KEYS and (figure := _invented_figure(s, ev, sbag)) is not None:
        return figure
    if (not s or low in _SENTINELS or DATEISH.match(s) or key.lower() in _CODE_KEYS
            or pschema.get("format") in ("date", "date-time", "time", "duration")):
        return None
    if len(s) <= 4 and s.isalpha():
        return None  # a code the assistant knows (EUR, es, LIS): mapped from words, not copied
    if low in ev.low or (sbag is not None and low in sbag.low):
        return None
    if (url := _URL.match(s)) is not None:
        return _url_ungrounded(s, url.group(1), ev)
    compact = NON_ALNUM.sub("", low)
    if len(compact) >= 5 and compact in bag_compact(ev):
        return None  # McDonald's ~ mc donalds
    for email in EMAIL.findall(s) if "@" in s else ():
        if email.lower() not in ev.low:
            return json.dumps(email)
    free = len(s) > 60 or key.lower() in _FREE_TEXT
    if not free:
        for tok in ID.findall(drop_dates(s)):
            if not id_grounded(tok, ev) and not NUM_UNIT.match(tok) and not DATEISH.match(tok):
                return json.dumps(tok)
    rest = drop_times(drop_dates(s))
    words = [w for w in WORD.findall(rest.lower()) if w not in STOP]
    nums = [abs(num(n)) for n in NUM.findall(rest)]
    if not words and not nums:
        return None
    for w in words:
        if word_grounded(w, ev) or (sbag is not None and cached_stem(w) in sbag.stems):
            return None
    for x in nums:
        if x <= 10 or num_grounded(x, 0.5, ev, derive=False):
            return None
    if words and _abbreviated(words, ev):
        return None
    return json.dumps(s[:60])


_URL = re.compile(r"\Ahttps?://([^/\s?#:@]+)(?::\d+)?(?:[/?#]\S*)?\Z", re.I)
_URL_IN = re.compile(r"https?://[^\s\"'<>()\[\]{}]+", re.I)


def _host(host: str) -> str:
    host = host.lower()
    return host[4:] if host.startswith("www.") else host


def _norm_url(u: str) -> str:
    u = u.rstrip(".,;:!?/").lower()
    return u.replace("://www.", "://", 1)


def _url_ungrounded(s: str, host: str, ev: Bag) -> str | None:
    """A URL argument: the same as a URL of the request or a result on its host, or a site the evidence names.

    An altered URL (``documentation.pdf`` called as ``documentation/pdf``) or an invented site is a quote;
    a page under a given URL is grounded when the words of the extra path are.
    """
    host = _host(host)
    mine = _norm_url(s)
    given = [_norm_url(u) for u in _URL_IN.findall(ev.raw)]
    same = [u for u in given if (m := _URL.match(u)) is not None and _host(m.group(1)) == host]
    if same:
        for u in same:
            if mine == u:
                return None
            if mine.startswith(u + "/") or mine.startswith(u + "?"):
                extra = [w for w in WORD.findall(mine[len(u):]) if w not in STOP]
                if all(word_grounded(w, ev) for w in extra):
                    return None
        return json.dumps(s[:60])
    if host in ev.low:
        return None
    parts = host.split(".")
    if len(parts) >= 3 and len(parts[-2]) <= 3:  # bbc.co.uk, abc.com.au
        parts = parts[:-1]
    label = parts[-2] if len(parts) >= 2 else parts[0]
    if word_grounded(label, ev) or (len(label) >= 4 and label.replace("-", "") in bag_compact(ev)):
        return None
    return json.dumps(host)


_ABBR = re.compile(r"\b[A-Z]{2,4}\b|\b[A-Za-z]{4,}")


def _abbreviated(words: list[str], ev: Bag) -> bool:
    """Whether the request names the value in short: initials (SF, LA) or a shared start (Philly, Chi-town)."""
    initials = _initials(words)
    for tok in _ABBR.findall(ev.raw):
        t = tok.lower()
        if tok.isupper() and t == initials:
            return True
        if len(t) >= 4 and any(w[:3] == t[:3] and (w.startswith(t[:4]) or t.startswith(w[:4])) for w in words if len(w) >= 4):
            return True
    return False


def _tool_fit(calls: list[_Call], user_bags: list[tuple[int, Bag]], tools: dict[str, ToolInfo],
              issues: list[Issue]) -> None:
    called = {c.name for c in calls}
    others = [t for n, t in tools.items() if n not in called]
    if not others:
        return
    first_turn = calls[0].turn
    seen: set[str] = set()
    for c in calls:
        if c.turn != first_turn or c.name in seen:
            continue  # later turns may use helper tools the request never names
        seen.add(c.name)
        info = tools.get(c.name)
        if info is None:
            continue
        req = merge([b for i, b in user_bags if i < c.turn] or [b for _, b in user_bags])
        if fit(req, info) > 0:
            continue
        best = max(others, key=lambda t: fit(req, t))
        score = fit(req, best)
        if score >= 2:
            issues.append(Issue("tool_mismatch", f"messages[{c.turn}].tool_calls.{c.name}",
                                f"{c.name} shares nothing with the request, while the offered {best.name} fits it "
                                f"({score} words in common)"))


_SYNONYMS: dict[str, tuple[str, ...]] = {
    "metric": ("celsius", "centigrade", "metric", "kilometers", "kilometres", "km", "°c", "meters", "metres"),
    "imperial": ("fahrenheit", "imperial", "miles", "mph", "°f", "feet", "pounds", "lbs"),
    "celsius": ("celsius", "centigrade", "°c"),
    "fahrenheit": ("fahrenheit", "°f"),
    "kelvin": ("kelvin",),
}
_SYN_RX: dict[str, re.Pattern[str]] = {}


_NEGATION = re.compile(r"\b(?:not|no|don't|dont|without|exclude|excluding|except|other than|rather than|instead of|"
                       r"flexible|either|whether|never|avoid|nor|isn't|aren't)\b[^.;!?]{0,40}\Z", re.I)


def _mentions(value: str, low: str) -> bool:
    """Whether the request asks for this enum value (or a synonym), not in a negation ("not too pricey")."""
    rx = _SYN_RX.get(value)
    if rx is None:
        words = _SYNONYMS.get(value.lower(), (value.lower(),))
        alts = "|".join(re.escape(w).replace("_", "[\\s_-]").replace("\\-", "[\\s_-]").replace("\\ ", "[\\s_-]")
                        for w in words)
        rx = re.compile(r"(?<![\w°])(?:" + alts + r")(?![\w])")
        if len(_SYN_RX) < 5000:
            _SYN_RX[value] = rx
    for m in rx.finditer(low):
        if not _NEGATION.search(low[max(0, m.start() - 60): m.start()]):
            return True
    return False


def _options(calls: list[_Call], user_bags: list[tuple[int, Bag]], tools: dict[str, ToolInfo],
             issues: list[Issue]) -> None:
    for c in calls:
        info = tools.get(c.name)
        if info is None:
            continue
        low = " \n ".join(b.low for i, b in user_bags if i < c.turn)
        for key, ps in info.params.items():
            enum = ps.get("enum")
            if not isinstance(enum, list) or len(enum) < 2 or not all(isinstance(v, str) for v in enum):
                continue
            asked = [v for v in enum if len(v) >= 3 and v.lower() not in STOP and v.lower() not in _SENTINELS
                     and _mentions(v, low)]
            if len(asked) != 1:
                continue  # none, or ambiguous (from celsius to fahrenheit)
            want = asked[0].lower()
            # any call of this tool that sets the value will do (one call per asked option in parallel records)
            got = [o.args.get(key, ps.get("default")) for o in calls if o.name == c.name]
            if any(isinstance(g, str) and g.lower() == want for g in got):
                continue
            value = c.args.get(key, ps.get("default"))
            shown = "left out" if key not in c.args else f"set to {value!r}"
            issues.append(Issue("option_ignored", f"messages[{c.turn}].tool_calls.{c.name}.arguments.{key}",
                                f"the user asked for {asked[0]!r} but {c.name}.{key} is {shown}"))
            return


def _chained(calls: list[_Call], request: Bag, result_bags: dict[int, Bag], issues: list[Issue]) -> None:
    turns = sorted({c.turn for c in calls})
    for t in turns[1:]:
        earlier = [b for i, b in result_bags.items() if i < t]
        if not earlier:
            continue
        ev = merge(earlier)
        # a result echoes its call's arguments (read_file -> {"path": ...}): reusing them is not chaining
        echoed = " ".join(str(leaf) for c in calls if c.turn < t for _, leaf in _leaves(c.args, "", [])
                          if leaf is not None and not isinstance(leaf, bool))
        known = merge([request, bag(echoed)]) if echoed else request
        if any(_uses(c.args, ev, known) for c in calls if c.turn == t):
            continue
        names = ", ".join(sorted({c.name for c in calls if c.turn == t}))
        issues.append(Issue("unchained_call", f"messages[{t}].tool_calls",
                            f"{names} takes nothing from the earlier tool results, so the steps are not chained"))


def _uses(args: dict[str, Any], results: Bag, request: Bag) -> bool:
    """Whether some argument value comes from the results (and is not only an echo of the request)."""
    for _, leaf in _leaves(args, "", []):
        if leaf is None or isinstance(leaf, bool):
            continue
        if isinstance(leaf, int | float):
            x = abs(float(leaf))
            if x in results.nums and x not in request.nums:
                return True
            continue
        s = str(leaf).strip().lower()
        if len(s) >= 2 and s in results.low and s not in request.low:
            return True
        for tok in ID.findall(s):
            if tok.lower() in results.low and tok.lower() not in request.low:
                return True
        for w in WORD.findall(s):
            if w not in STOP and cached_stem(w) in results.stems and cached_stem(w) not in request.stems:
                return True
        for n in NUM.findall(s):
            x = abs(num(n))
            if x > 1 and x in results.nums and x not in request.nums:
                return True
    return False


def _answer(final: str, idx: int, calls: list[_Call], request: Bag, sys_bag: _Lazy,
            result_bags: dict[int, Bag], tools: dict[str, ToolInfo], issues: list[Issue]) -> None:
    where = f"messages[{idx}].content"
    ev = merge([request, *result_bags.values()])
    bad = _claims(final, ev, tools)
    if bad:  # last resort: the call arguments and the system prompt
        parts = [ev, bag(" ".join(c.canon for c in calls))]
        if sys_bag.get() is not None:
            parts.append(sys_bag.get())  # type: ignore[arg-type]
        bad = _claims(final, merge(parts), tools)
    if bad:
        shown = ", ".join(dict.fromkeys(bad))
        issues.append(Issue("answer_ungrounded", where, f"the answer states {shown}, found in no tool result, "
                            "call or user message"))
        return
    _pairing(final, calls, where, issues)


def _claims(final: str, ev: Bag, tools: dict[str, ToolInfo]) -> list[str]:
    """The values (times, emails, ids, figures, names) that the answer states and ``ev`` does not hold."""
    bad: list[str] = []
    text = final
    # times first (3:30 pm ~ 15:30), then take them out of the text
    if (":" in text or "m" in text) and may_hold_time(text):
        for m in TIME.finditer(text):
            t = ((int(m.group(1)) * 60 + int(m.group(2))) if m.group(1) is not None else int(m.group(3)) * 60) % 720
            if t not in ev.times:
                bad.append(m.group(0).strip())
        text = TIME.sub(" ", text)
    if "." in text:
        for name in FILENAME.findall(text):  # a file the answer names must be one the conversation holds
            if name.lower() not in ev.low:
                bad.append(name)
    if "@" in text:
        for email in EMAIL.findall(text):
            if email.lower() not in ev.low:
                bad.append(email)
        text = EMAIL.sub(" ", text)
    for tok in ID.findall(text):
        if NUM_UNIT.match(tok) or DATEISH.match(tok):
            continue
        if not id_grounded(tok, ev):
            bad.append(tok)
    for m in NUM.finditer(text):
        raw = m.group(0)
        x = num(raw)
        dec = decimals(raw)
        before = text[max(0, m.start() - 16): m.start()]
        after = text[m.end(): m.end() + 12]
        um = UNIT_AFTER.match(after)
        unit = bool(um or CURRENCY_BEFORE.search(before))
        if dec == 0 and x <= 10 and not unit:
            continue  # counts and list numbers
        if text[m.end(): m.end() + 2].lower() in ("st", "nd", "rd", "th"):
            continue
        unit_word = after.strip().split(" ")[0].strip(".,;:!?)").lstrip("°") if after[:1] == " " or um else ""
        tol = 0.5 * 10 ** -dec if dec else 0.5
        if dec == 0 and HEDGE.search(before):
            zeros = len(raw.replace(",", "")) - len(raw.replace(",", "").rstrip("0"))
            tol = max(tol, 0.5 * 10 ** zeros, x * 0.1)
        if not num_grounded(x, tol + 1e-9, ev, unit=unit_word):
            bad.append(raw)
    if ENGLISH.search(text) is not None or len(WORD.findall(text)) < 4:
        tool_stems: set[str] | None = None
        for m in CAP.finditer(text):
            w = m.group(0)
            if w.lower() in GENERIC_NAMES or SENT_START.search(text[max(0, m.start() - 3): m.start()]):
                continue
            if word_grounded(w, ev):
                continue
            if tool_stems is None:
                tool_stems = set().union(*(t.stems for t in tools.values())) if tools else set()
            if cached_stem(w) not in tool_stems:
                bad.append(w)
    return bad


def _pairing(final: str, calls: list[_Call], where: str, issues: list[Issue]) -> None:
    """A clause that names one call's entity but quotes a figure found only in another call's result."""
    ok = [c for c in calls if c.result is not None and not c.error]
    names = [c.name for c in ok]
    ok = [c for c in ok if names.count(c.name) >= 2]  # calls of one tool, for different entities
    if len(ok) < 2:
        return
    ents: list[tuple[str, _Call]] = []
    for c in ok:
        for _, leaf in _leaves(c.args, "", []):
            if isinstance(leaf, str) and 3 <= len(leaf) <= 40:
                ents.append((leaf.split(",")[0].strip().lower(), c))
    names = [e for e, _ in ents]
    ents = [(e, c) for e, c in ents if names.count(e) == 1]  # an entity of exactly one call
    if len(ents) < 2:
        return
    nums = {id(c): {abs(num(n)) for n in NUM.findall(ID.sub(" ", c.result or ""))} for c in ok}
    for clause in CLAUSE.split(drop_times(ID.sub(" ", final)).lower()):
        hit = [(e, c) for e, c in ents if e in clause]
        if len(hit) != 1:
            continue
        e, c = hit[0]
        mine = nums[id(c)]
        for n in NUM.findall(clause):
            x = abs(num(n))
            if x <= 1 or x in mine:
                continue
            if any(x in nums[id(o)] for o in ok if o is not c):
                issues.append(Issue("answer_ungrounded", where, f"the answer gives {n} for {e!r}, but that figure "
                                    f"comes from another call's result ({c.name} for {e!r} did not return it)"))
                return


_SIMPLE_CONVERSIONS = (lambda y: y * 9 / 5 + 32, lambda y: (y - 32) * 5 / 9, lambda y: y / 1.609344,
                       lambda y: y * 1.609344, lambda y: y * 2.20462, lambda y: y / 2.20462)


def _results_used(calls: list[_Call], answers: list[tuple[int, str]], result_bags: dict[int, Bag],
                  issues: list[Issue]) -> None:
    used_at: dict[int, Bag] = {}
    for c in calls:
        if c.result is None or c.error:
            continue
        salient = _salient(c)
        if salient is None:
            continue
        words, nums, strings = salient
        # what comes after the result: answers and later calls (cached per cut-off turn)
        cut = max((i for i, _ in answers if i < c.result_idx), default=-1)
        used = used_at.get(cut)
        if used is None:
            later_text = " ".join(t for i, t in answers if i > c.result_idx)
            later_args = " ".join(o.canon for o in calls if o.turn > c.result_idx)
            used = used_at[cut] = bag(later_text + " " + later_args)
        if words & used.stems:
            continue
        if any(num_close(x, used.nums, max(0.5, x * 0.01)) for x in nums):
            continue
        if any(num_close(abs(f(x)), used.nums, 0.5 + x * 0.01) for x in nums for f in _SIMPLE_CONVERSIONS):
            continue  # 4 (°C) reported as 39 °F
        if any(w in used.low for w in strings):
            continue
        issues.append(Issue("result_ignored", f"messages[{c.result_idx}].content",
                            f"the result of {c.name} holds data that neither the answer nor a later call uses"))


def _result_value(c: _Call) -> Any:
    text = c.result or ""
    if text[:1] not in ("{", "["):
        return text
    try:
        return jsontext.loads(text)  # json.loads, parsed once per record
    except (json.JSONDecodeError, ValueError):
        return text


def _salient(c: _Call) -> tuple[set[str], set[float], list[str]] | None:
    """The result's informative words, numbers and strings (not acknowledgements, not echoes of the call)."""
    value = _result_value(c)
    leaves = _leaves(value, "", []) if isinstance(value, dict | list) else [("", value)]
    nums: set[float] = set()
    strings: list[str] = []
    for path, leaf in leaves:
        if leaf is None or isinstance(leaf, bool):
            continue
        if path and _ACK_KEYS.search(path.rsplit(".", 1)[-1].split("[")[0].lower()):
            continue
        if isinstance(leaf, int | float):
            x = abs(float(leaf))
            if x > 1:
                nums.add(x)
        else:
            strings.append(str(leaf))
    if not nums and not strings:
        return None
    arg_bag = bag(c.canon)
    b = bag(" \n ".join(strings))
    words = {w for w in b.stems if w not in arg_bag.stems and w not in _ACK_WORDS}
    nums = {x for x in nums | b.nums if x > 1 and x not in arg_bag.nums}
    if not words and not nums:
        return None
    return words, nums, [x.lower() for x in strings if len(x) >= 3]


_DECLINE = re.compile(r"\?|\b(?:can't|cannot|can not|unable|not able|don't have|do not have|no access|none of|"
                      r"not possible|no tool|not available|isn't available|which (?:city|one|date)|please (?:tell|provide|"
                      r"specify|give))\b", re.I)


def _live_data(users: list[tuple[int, str]], request: Bag, tools: dict[str, ToolInfo]) -> list[Issue]:
    text = " ".join(t for _, t in users)
    if not _LIVE.search(text):
        return []
    best = max(tools.values(), key=lambda t: fit(request, t))
    score = fit(request, best)
    if score < 2:
        return []
    return [Issue("live_data_no_call", f"messages[{users[0][0]}].content",
                  f"the request asks for live data that the offered {best.name} provides, yet no tool is called "
                  f"(not a no_tool_needed record)")]
