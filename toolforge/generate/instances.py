"""Instances of a JSON Schema, for the ``fake:`` teacher (and tests).

Covers what tool parameter schemas and the generation schemas use: ``const``,
``enum``, ``anyOf``/``oneOf``, type lists, objects (required plus some optional
properties, ``additionalProperties`` schemas), arrays with item bounds,
strings with ``format`` (date-time, date, email, uri), ``pattern`` (a small
generator over Python's own regex parser) and length bounds, and numbers
within ``minimum``/``maximum``/``exclusive*``. Deterministic for a given
``random.Random``.
"""

from __future__ import annotations

import random
from typing import Any

try:  # Python 3.11+
    import re._constants as _sc  # type: ignore[import-not-found]
    import re._parser as _sp  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sc  # type: ignore[no-redef]
    import sre_parse as _sp  # type: ignore[no-redef]

WORDS = ["amber", "harbor", "river", "summit", "ledger", "quartz", "meadow", "orbit", "canyon", "lantern", "maple", "signal", "copper", "garden", "violet", "falcon", "beacon", "cobalt", "willow", "prairie", "glacier", "ember", "atlas", "delta", "nimbus", "sierra", "tundra", "jasper", "cedar", "harvest", "compass", "mosaic", "pepper", "saffron", "topaz", "velvet", "zephyr", "kestrel"]
CITIES = ("Oslo", "Lisbon", "Nairobi", "Osaka", "Quito", "Tallinn", "Perth", "Lyon", "Austin", "Hanoi")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def text_between(rng: random.Random, lo: int, hi: int | None, *, min_words: int = 3) -> str:
    hi = hi if hi is not None else max(lo, 60) + 40
    target = rng.randint(max(lo, 1), max(lo, min(hi, max(lo, 24) + 40)))
    out = words(rng, min_words)
    while len(out) < target:
        out += " " + rng.choice(WORDS)
    out = out[:hi].rstrip() if len(out) > hi else out
    while len(out) < lo:
        out += "x"
    return out


def from_pattern(pattern: str, rng: random.Random, max_repeat: int = 4) -> str:
    """A string matching ``pattern`` (anchors respected; a missing ``$`` allows nothing extra)."""
    parsed = _sp.parse(pattern)
    return _emit(list(parsed), rng, max_repeat)


def _emit(items: list[Any], rng: random.Random, max_repeat: int) -> str:
    out = []
    for op, av in items:
        if op is _sc.LITERAL:
            out.append(chr(av))
        elif op is _sc.NOT_LITERAL:
            out.append("a" if av != ord("a") else "b")
        elif op is _sc.ANY:
            out.append(rng.choice("abcxyz"))
        elif op is _sc.IN:
            out.append(_in(av, rng))
        elif op in (_sc.MAX_REPEAT, _sc.MIN_REPEAT, getattr(_sc, "POSSESSIVE_REPEAT", None)):
            lo, hi, sub = av
            hi = lo + max_repeat if hi is _sc.MAXREPEAT else hi
            for _ in range(rng.randint(lo, max(lo, min(hi, lo + max_repeat)))):
                out.append(_emit(list(sub), rng, max_repeat))
        elif op is _sc.SUBPATTERN:
            out.append(_emit(list(av[-1]), rng, max_repeat))
        elif op is _sc.BRANCH:
            out.append(_emit(list(rng.choice(av[1])), rng, max_repeat))
        elif op in (_sc.AT, getattr(_sc, "ASSERT", None), getattr(_sc, "ASSERT_NOT", None)) or op is _sc.GROUPREF:
            continue
        else:  # CATEGORY and anything exotic: a safe letter
            out.append("a")
    return "".join(out)


def _in(av: list[Any], rng: random.Random) -> str:
    negate = any(op is _sc.NEGATE for op, _ in av)
    if negate:
        banned = {chr(v) for op, v in av if op is _sc.LITERAL}
        return next(c for c in "abcdefgh" if c not in banned)
    op, v = rng.choice([x for x in av if x[0] is not _sc.NEGATE])
    if op is _sc.LITERAL:
        return chr(v)
    if op is _sc.RANGE:
        return chr(rng.randint(v[0], v[1]))
    if op is _sc.CATEGORY:
        name = str(v)
        if "DIGIT" in name:
            return str(rng.randint(0, 9))
        if "SPACE" in name:
            return " "
        return rng.choice("abcdefgh")
    return "a"


def instance(schema: Any, rng: random.Random, *, depth: int = 0) -> Any:
    """A value valid under ``schema`` (for the subset of JSON Schema described above)."""
    if not isinstance(schema, dict) or not schema:
        return words(rng, 2)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return instance(rng.choice(schema[key]), rng, depth=depth)
    t = schema.get("type")
    if isinstance(t, list):
        t = rng.choice([x for x in t if x != "null"] or t)
    if t is None:
        t = "object" if "properties" in schema else "string"
    if t == "object":
        return _object(schema, rng, depth)
    if t == "array":
        lo = int(schema.get("minItems", 1))
        hi = int(schema.get("maxItems", lo + 2))
        n = rng.randint(lo, max(lo, min(hi, lo + 2)))
        return [instance(schema.get("items", {"type": "string"}), rng, depth=depth + 1) for _ in range(n)]
    if t == "string":
        return _string(schema, rng)
    if t in ("integer", "number"):
        return _number(schema, rng, integer=t == "integer")
    if t == "boolean":
        return rng.random() < 0.5
    if t == "null":
        return None
    return words(rng, 2)


def _object(schema: dict[str, Any], rng: random.Random, depth: int) -> dict[str, Any]:
    props = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if name in required or (depth < 3 and rng.random() < 0.4):
            out[name] = instance(sub, rng, depth=depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and depth < 3:
        for _ in range(rng.randint(1, 3)):
            out[rng.choice(WORDS)] = instance(extra, rng, depth=depth + 1)
    return out


def _string(schema: dict[str, Any], rng: random.Random) -> str:
    fmt = schema.get("format")
    if "pattern" in schema:
        return from_pattern(schema["pattern"], rng)
    if fmt == "date-time":
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(8, 18):02d}:00:00+00:00"
    if fmt == "date":
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if fmt == "email":
        return f"{rng.choice(WORDS)}.{rng.choice(WORDS)}@example.com"
    if fmt in ("uri", "url"):
        return f"https://{rng.choice(WORDS)}.example.com/{rng.choice(WORDS)}"
    lo = int(schema.get("minLength", 1))
    hi = schema.get("maxLength")
    return text_between(rng, lo, int(hi) if hi is not None else min(lo + 40, 80), min_words=2)


def _number(schema: dict[str, Any], rng: random.Random, *, integer: bool) -> int | float:
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    lo_f = float(lo) if lo is not None else 0.0
    hi_f = float(hi) if hi is not None else lo_f + 100.0
    if "exclusiveMinimum" in schema and "minimum" not in schema:
        lo_f = lo_f + (1 if integer else 0.5)
    if "exclusiveMaximum" in schema and "maximum" not in schema:
        hi_f = hi_f - (1 if integer else 0.5)
    hi_f = min(hi_f, lo_f + 100.0)
    if integer:
        import math

        return rng.randint(math.ceil(lo_f), max(math.ceil(lo_f), math.floor(hi_f)))
    return round(rng.uniform(lo_f, max(lo_f, hi_f)), 2)
