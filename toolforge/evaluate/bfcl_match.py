"""BFCL-style call matching, written from the rules stated in ``shared/bfcl/README.md``.

A BFCL answer is ``{function_name: {param: [acceptable values...]}}``: an empty
string among the acceptable values means the parameter may be left out, and
acceptable values of dict-typed parameters are dicts whose keys hold their own
lists of acceptable values. A predicted call is right when:

- its name equals the answer's function name;
- every parameter the function's doc marks required is present;
- every parameter it gives is both in the doc and in the answer;
- each value has the doc's type (an int is accepted where a float is
  expected; ``tuple`` values are lists; ``any`` accepts anything);
- each value equals one acceptable value, where strings are compared after
  removing spaces and ``,./-_*^``, lower-casing and mapping ``'`` to ``"``,
  lists element by element in order, dicts key by key;
- every answer parameter it leaves out is optional (``""`` is acceptable).

Parallel calls are matched in any order (a maximum bipartite matching, so the
order of the answers never matters). This module also builds the "gold"
prediction from an answer (the first acceptable value of each parameter),
which the BFCL importer uses as the record's call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Literal

_STRIP = re.compile(r"[ ,./\-_*^]")
OMIT = ""  # BFCL's marker for "this parameter may be left out"

# Type names of BFCL's dialect and of JSON Schema, mapped to one vocabulary.
_TYPE_ALIASES = {
    "string": "string", "str": "string",
    "integer": "integer", "int": "integer",
    "float": "float", "number": "float", "double": "float",
    "boolean": "boolean", "bool": "boolean",
    "array": "array", "tuple": "array", "list": "array",
    "dict": "dict", "object": "dict",
    "any": "any", "null": "null",
}


def standardize(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``,./-_*^``, lower-case, ``'`` -> ``"``."""
    return _STRIP.sub("", text).lower().replace("'", '"')


def _norm_type(t: Any) -> str:
    if isinstance(t, list):  # JSON Schema union: accept if any member accepts
        return "|".join(_norm_type(x) for x in t)
    return _TYPE_ALIASES.get(str(t).lower(), "any")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def type_ok(value: Any, declared: Any, items: Any = None) -> bool:
    """Whether ``value`` has the declared type (BFCL dialect or JSON Schema names)."""
    kinds = _norm_type(declared).split("|") if declared is not None else ["any"]
    return any(_one_type_ok(value, kind, items) for kind in kinds)


def _one_type_ok(value: Any, kind: str, items: Any) -> bool:
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return _is_number(value)  # an int is accepted where a float is expected
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "dict":
        return isinstance(value, dict)
    if kind == "null":
        return value is None
    if kind == "array":
        if not isinstance(value, (list, tuple)):
            return False
        if isinstance(items, dict) and "type" in items:
            return all(type_ok(v, items["type"], items.get("items")) for v in value)
        return True
    return True


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, dict):
        return "dict"
    return "null"


def answer_type_ok(value: Any, acceptable: Sequence[Any]) -> bool:
    """Whether ``value`` has the type of the answer's acceptable values.

    The answer key can disagree with the doc (a doc says ``string`` where the answer
    holds ``true``, or a list parameter answered with a variable name): the answer
    is the authority on what is right, so a value of the answer's type passes the
    type check (it must still equal an acceptable value).
    """
    given = [a for a in acceptable if not (isinstance(a, str) and a == OMIT)]
    if not given:
        return False
    want = _kind(given[0])
    got = _kind(value)
    return got == want or (want == "float" and got == "integer")


def value_equal(value: Any, acceptable: Any) -> bool:
    """Compare one value with one acceptable value (strings standardised, dicts per key)."""
    if isinstance(acceptable, dict):
        if not isinstance(value, dict):
            return False
        return dict_matches(value, acceptable)
    if isinstance(acceptable, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(acceptable):
            return False
        return all(value_equal(v, a) for v, a in zip(value, acceptable, strict=True))
    if isinstance(acceptable, str):
        return isinstance(value, str) and standardize(value) == standardize(acceptable)
    if isinstance(acceptable, bool):
        return isinstance(value, bool) and value == acceptable
    if _is_number(acceptable):
        return _is_number(value) and value == acceptable
    return value is None and acceptable is None


def value_matches(value: Any, acceptable: Sequence[Any]) -> bool:
    """Whether ``value`` equals any of the acceptable values."""
    return any(value_equal(value, a) for a in acceptable)


def dict_matches(value: dict[str, Any], answer: dict[str, Any]) -> bool:
    """A dict value against an answer dict whose keys hold lists of acceptable values."""
    for key, v in value.items():
        if key not in answer:
            return False
        options = answer[key] if isinstance(answer[key], list) else [answer[key]]
        if not value_matches(v, options):
            return False
    for key, options in answer.items():
        if key not in value and OMIT not in (options if isinstance(options, list) else [options]):
            return False
    return True


def check_call(call: dict[str, Any], answer: dict[str, dict[str, list[Any]]],
               doc: dict[str, Any] | None) -> str | None:
    """Check one predicted call ``{"name", "arguments"}`` against one BFCL answer.

    ``doc`` is the function's documentation (``{"name", "parameters": {...}}`` in
    BFCL's dialect or JSON Schema), or None when unknown (types and required
    parameters are then not checked). Returns None when right, else the reason.
    """
    (fname, params_answer), = answer.items()
    if call.get("name") != fname:
        return f"wrong function name {call.get('name')!r} (expected {fname!r})"
    args = call.get("arguments")
    if not isinstance(args, dict):
        return "arguments are not an object"
    params_doc = (doc or {}).get("parameters") or {}
    props: dict[str, Any] = params_doc.get("properties") or {}
    required = params_doc.get("required") or []
    for name in required:
        if name not in args:
            return f"missing required parameter {name!r}"
    for name, value in args.items():
        if (doc is not None and name not in props) or name not in params_answer:
            return f"unexpected parameter {name!r}"
        spec = props.get(name) or {}
        declared = spec.get("type")
        if (declared is not None and not type_ok(value, declared, spec.get("items"))
                and not answer_type_ok(value, params_answer[name])):
            return f"parameter {name!r} has the wrong type (expected {declared})"
        if not value_matches(value, params_answer[name]):
            return f"parameter {name!r} has a value that is not acceptable: {value!r}"
    for name, options in params_answer.items():
        if name not in args and OMIT not in options:
            return f"missing parameter {name!r}"
    return None


Matching = Literal["greedy", "maximum"]
MATCHINGS = ("greedy", "maximum")


def match_all(preds: Sequence[Any], refs: Sequence[Any], ok: Callable[[Any, Any], bool]) -> int:
    """Size of a maximum matching between predictions and references under ``ok`` (any order).

    Augmenting paths are followed with an explicit stack, so a prediction with thousands of
    calls cannot exhaust Python's recursion limit."""
    adj = [[j for j, r in enumerate(refs) if ok(p, r)] for p in preds]
    owner: dict[int, int] = {}  # reference index -> prediction index
    size = 0
    for start in range(len(preds)):
        seen: set[int] = set()
        # each frame: (prediction index, iterator over its candidate references); parents[] records the path
        stack = [(start, iter(adj[start]))]
        path: list[int] = []  # the reference chosen at each frame
        found = False
        while stack:
            i, it = stack[-1]
            j = next((x for x in it if x not in seen), None)
            if j is None:
                stack.pop()
                if path:
                    path.pop()
                continue
            seen.add(j)
            path.append(j)
            if j not in owner:
                found = True
                break
            stack.append((owner[j], iter(adj[owner[j]])))
        if found:
            for (i, _), j in zip(stack, path, strict=True):
                owner[j] = i
            size += 1
    return size


def match_greedy(preds: Sequence[Any], refs: Sequence[Any], ok: Callable[[Any, Any], bool]) -> int:
    """Matches found the way official BFCL's ``parallel_function_checker_no_order`` finds them:
    each reference in order takes the first prediction not yet taken that fits it. This can
    find fewer than :func:`match_all` (a prediction that fits two references is taken by the
    first even when only it fits the second), so BFCL can score a parallel turn wrong where
    a maximum matching scores it right."""
    taken: set[int] = set()
    for r in refs:
        for i, p in enumerate(preds):
            if i not in taken and ok(p, r):
                taken.add(i)
                break
    return len(taken)


def matcher(matching: Matching) -> Callable[[Sequence[Any], Sequence[Any], Callable[[Any, Any], bool]], int]:
    if matching not in MATCHINGS:
        raise ValueError(f"unknown matching {matching!r}: choose one of {', '.join(MATCHINGS)}")
    return match_greedy if matching == "greedy" else match_all


def check_calls(calls: Sequence[dict[str, Any]], answers: Sequence[dict[str, Any]],
                docs: dict[str, dict[str, Any]], *, exactly_one: bool = False,
                matching: Matching = "greedy") -> str | None:
    """Check a predicted call set against BFCL answers (parallel calls in any order), matched
    greedily as official BFCL does, or with a maximum matching (``matching="maximum"``)."""
    if exactly_one and len(calls) != 1:
        return f"expected exactly one call, got {len(calls)}"
    if len(calls) != len(answers):
        return f"expected {len(answers)} call(s), got {len(calls)}"
    if len(answers) == 1:
        ans = answers[0]
        return check_call(calls[0], ans, docs.get(next(iter(ans))))
    matched = matcher(matching)(calls, answers, lambda c, a: check_call(c, a, docs.get(next(iter(a)))) is None)
    if matched == len(answers):
        return None
    # Name the first answer no call satisfies, for the report.
    for ans in answers:
        reasons = [check_call(c, ans, docs.get(next(iter(ans)))) for c in calls]
        if all(r is not None for r in reasons):
            same = [r for c, r in zip(calls, reasons, strict=True) if c.get("name") == next(iter(ans))]
            return f"no call matches {next(iter(ans))!r}" + (f": {same[0]}" if same else "")
    return "the calls cannot all be matched to different answers"


def first_acceptable(options: Any) -> Any:
    """The first acceptable value that is not the "may be left out" marker (dict answers
    resolved per key); OMIT when leaving the parameter out is the only choice."""
    if not isinstance(options, list):
        return _resolve(options)
    given = [o for o in options if not (isinstance(o, str) and o == OMIT)]
    return _resolve(given[0]) if given else OMIT


def _resolve(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, opts in value.items():
            v = first_acceptable(opts) if isinstance(opts, list) else opts
            if not (isinstance(v, str) and v == OMIT):
                out[k] = v
        return out
    if isinstance(value, list):
        return [_resolve(v) if isinstance(v, dict) else v for v in value]
    return value


def gold_calls(answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The call set built from the first acceptable value of each parameter."""
    out = []
    for ans in answers:
        (fname, params), = ans.items()
        args = {}
        for p, opts in params.items():
            v = first_acceptable(opts)
            if isinstance(v, str) and v == OMIT:
                continue
            args[p] = v
        out.append({"name": fname, "arguments": args})
    return out
