"""Evidence for the grounding checks: word stems, numbers, times and ids of a text, and tool facts.

A :class:`Bag` is what one text offers as evidence (built once per message with
precompiled regexes); :func:`num_grounded` decides whether a figure is in the
evidence or a simple derivation of it; :class:`ToolInfo` is what the checks
need of one offered tool. Used by :mod:`toolforge.validate.grounding`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# ----------------------------------------------------------------------------------------------
# tokens ("(?=\d)" first in NUM, DATE and TIME, whose matches start with a digit: the regex engine gives up
# at once where there is none instead of testing the look-behinds there; the matches are the same)
WORD = re.compile(r"[^\W\d_]{3,}")
NUM = re.compile(r"(?=\d)(?<![A-Za-z0-9_.])(?<![A-Za-z0-9]-)(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?!\.?\d)")
MAGNITUDE = re.compile(r"(\d+(?:\.\d+)?)\s*(thousand|million|billion|trillion|k\b|bn\b)")
SCALE = {"th": 1e3, "k": 1e3, "mi": 1e6, "bi": 1e9, "bn": 1e9, "tr": 1e12}
DATE = re.compile(r"(?=\d)(?<!\d)(\d{4})([-./])(\d{1,2})(?:\2(\d{1,2}))?(?!\d)")
TIME = re.compile(r"(?=\d)(?:(?<![\d+-])(\d{1,2}):(\d{2})(?::\d{2})?(?!\d)|\b(\d{1,2})\s?([ap])\.?m\.?(?![a-z]))", re.I)
ID = re.compile(r"(?<![\w@.-])(?=[A-Za-z_-]*\d)(?=[\d_-]*[A-Za-z])[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*(?![\w@-])")
NUM_UNIT = re.compile(r"\d+(?:\.\d+)?(?:st|nd|rd|th|[a-z]{1,3}|-[a-z]+)\Z", re.I)
VAGUE = re.compile(r"\b(?:a (?:bit|little|few|touch|tad)|slightly|somewhat|some|a lot|lots|more|less|several|much|"
                    r"further|farther|way|bigger|smaller|higher|lower|closer)\b", re.I)
FILENAME = re.compile(r"(?<![\w/.-])[A-Za-z][\w-]*\.(?:pdf|csv|md|txt|json|jsonl|py|js|ts|html|xml|ya?ml|docx?|xlsx?|"
                      r"pptx?|png|jpe?g|gif|svg|wav|mp3|mp4|zip|gz|tar|log|sql|ipynb|parquet)\b", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CAP = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b")
DATEISH = re.compile(r"\A(?:\d{4}-\d{2}(?:-\d{2})?(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?|\d{1,2}:\d{2}(?::\d{2})?"
                      r"|\d{1,2}/\d{1,2}(?:/\d{2,4})?|today|tomorrow|yesterday|now)\Z", re.I)
HEDGE = re.compile(r"\b(?:about|around|roughly|approximately|approx|nearly|almost|over|under|some|~)\s*\Z", re.I)
UNIT_AFTER = re.compile(r"\s?(?:%|°|percent|degrees?\b|[$€£¥])")
CURRENCY_BEFORE = re.compile(r"[$€£¥]\s?\Z")
ENGLISH = re.compile(r"\b(?:the|is|are|and|of|to|in|it|you|your|for|with|at|on|was|has|be|this|that|or)\b", re.I)
CLAUSE = re.compile(r"[;.!?\n]|,\s|\bwhile\b|\bwhereas\b|\band\b|\bbut\b")
SENT_START = re.compile(r"(?:\A|[.!?:;\n*•(\"“-])\s*\Z")

STOP = frozenset("""
the and for with that this from into your you are was were been have has had will would could should
can may might not but all any each some more most other such than then there these those they them
their what which who whom whose when where why how its it's our out over under about above after
before again also just only very here now one two get set make run use used using call find show
give take tell want need please let like know see look returns return given specified specific value
values based provide provides provided information info data details detail result results request
requests tool tools function api current currently new list lists name names number type types
option options optional default user users value field fields item items record records text string
per via able into onto upon within times without between both either neither yes okay sure thanks
thank hello hi dear com www http https org net html json
""".split())  # noqa: SIM905

GENERIC_NAMES = frozenset("""
i i'm i've i'll i'd you we they he she it the a an this that these those there here what which who
how when where why yes no ok okay sure done great good thanks thank please sorry unfortunately
however also both all each note first second third next last finally then today tomorrow yesterday
now currently monday tuesday wednesday thursday friday saturday sunday january february march april
may june july august september october november december celsius fahrenheit kelvin utc gmt am pm let
here's there's it's that's hello hi dear best regards cheers mr mrs ms dr prof
""".split())  # noqa: SIM905

WORD_NUMS: dict[str, float] = {w: float(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])}
WORD_NUMS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                   "hundred": 100, "thousand": 1000, "million": 1e6, "billion": 1e9, "dozen": 12, "couple": 2,
                   "pair": 2, "twice": 2, "double": 2, "half": 0.5, "quarter": 0.25, "week": 7, "weekend": 2,
                   "fortnight": 14, "month": 30, "year": 365, "hour": 60, "minute": 60, "day": 24, "triple": 3,
                   "single": 1, "both": 2, "once": 1, "thrice": 3, "decade": 10, "century": 100})
WORD_NUM_KEYS = frozenset(WORD_NUMS)
FACTORS = (60.0, 100.0, 1000.0, 24.0, 7.0, 12.0, 3600.0, 1024.0, 1e6)

SUFFIXES = ("ations", "ation", "ings", "ing", "ions", "ion", "ers", "er", "ed", "ly")


def stem(word: str) -> str:
    """A crude stem: lower case, plural and one common suffix off, final e/y folded, first six letters
    (movies ~ movie, cities ~ city, translate ~ translation, booking ~ book)."""
    w = word.lower()
    if len(w) >= 4:
        if w.endswith("ies") and len(w) > 4:
            w = w[:-3] + "i"
        elif w.endswith(("sses", "shes", "ches", "xes", "zes")):
            w = w[:-2]
        elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
            w = w[:-1]
    if len(w) > 5:
        for suf in SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                w = w[: -len(suf)]
                break
    if len(w) > 3 and w[-1] in "ey":
        w = w[:-1] if w[-1] == "e" else w[:-1] + "i"  # movie ~ movies, city ~ cities
    return w[:6]


def num(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass(slots=True)
class Bag:
    """What one text offers as evidence: lower-cased text, word stems, numbers (absolute), times (minutes mod 12 h)."""

    low: str
    stems: set[str]
    nums: set[float]
    times: set[int]
    raw: str = ""
    # derived from ``low`` when first asked for (see bag_words, bag_compact): several checks scan one bag
    _words: list[str] | None = field(default=None, compare=False, repr=False)
    _compact: str | None = field(default=None, compare=False, repr=False)
    _by_initial: dict[str, list[str]] | None = field(default=None, compare=False, repr=False)


def bag_words(b: Bag) -> list[str]:
    """``WORD.findall(b.low)``, computed once per bag."""
    if b._words is None:
        b._words = WORD.findall(b.low)
    return b._words


def bag_by_initial(b: Bag) -> dict[str, list[str]]:
    """The distinct words of ``b.low`` by first letter (the candidates of a misspelling), computed once per bag."""
    if b._by_initial is None:
        out: dict[str, list[str]] = {}
        for w in dict.fromkeys(bag_words(b)):
            out.setdefault(w[0], []).append(w)
        b._by_initial = out
    return b._by_initial


def bag_compact(b: Bag) -> str:
    """``NON_ALNUM.sub("", b.low)`` (the text without separators), computed once per bag."""
    if b._compact is None:
        b._compact = NON_ALNUM.sub("", b.low)
    return b._compact


# cheap necessary conditions for a TIME or DATE match: a text without one skips the slower scan
_TIME_HINT = re.compile(r"\d(?::\d|\s?[apAP])")  # TIME: 4:30 or 4 pm (its [ap] under re.I is [apAP])
_DATE_HINT = re.compile(r"\d[-./]\d")
_DIGIT = re.compile(r"\d")


def drop_times(text: str) -> str:
    """``TIME.sub(" ", text)``, without the scan when ``text`` cannot hold a time."""
    return TIME.sub(" ", text) if _TIME_HINT.search(text) else text


def drop_dates(text: str) -> str:
    """``DATE.sub(" ", text)``, without the scan when ``text`` cannot hold a date."""
    return DATE.sub(" ", text) if _DATE_HINT.search(text) else text


def may_hold_time(text: str) -> bool:
    """False when ``TIME`` cannot match ``text`` (a cheap necessary test)."""
    return _TIME_HINT.search(text) is not None


def bag(text: str) -> Bag:
    low = text.lower()
    times: set[int] = set()
    if not _DIGIT.search(text):  # no figure: no number, time or date (word numbers come below)
        return _finish(text, low, set(), times)
    if (":" in text or "am" in low or "pm" in low or "m." in low) and _TIME_HINT.search(text):
        for m in TIME.finditer(text):
            if m.group(1) is not None:
                times.add((int(m.group(1)) * 60 + int(m.group(2))) % 720)
            else:
                times.add((int(m.group(3)) * 60) % 720)
    found = NUM.findall(text)
    if "," not in text:
        nums = set(map(float, found))  # NUM matches digits and a point only: num(x) is float(x), never negative
    else:
        nums = {abs(num(x)) for x in found}
        for x in found:
            if "," in x:  # 200,300,400 may be a list, not a number
                nums.update(float(p) for p in x.split(","))
    if "illion" in low or "thousand" in low or "k " in low:
        for m in MAGNITUDE.finditer(low):
            nums.add(float(m.group(1)) * SCALE[m.group(2)[:2]])
    if ("-" in text or "." in text or "/" in text) and _DATE_HINT.search(text):
        for m in DATE.finditer(text):
            nums.update(float(g) for g in (m.group(1), m.group(3), m.group(4)) if g)
    return _finish(text, low, nums, times)


def _finish(text: str, low: str, nums: set[float], times: set[int]) -> Bag:
    """The words of a bag (and the numbers they name) added to the figures found in ``text``."""
    words = set(WORD.findall(low))
    for w in words & WORD_NUM_KEYS:
        nums.add(WORD_NUMS[w])
    content = words - STOP
    stems = set(map(STEMS.get, content))  # stems are cached per word: one C-level lookup each
    if None in stems:
        stems.discard(None)
        for w in content:
            if w not in STEMS:
                st = stem(w)
                if len(STEMS) < 200_000:
                    STEMS[w] = st
                stems.add(st)
    return Bag(low, stems, nums, times, text)  # type: ignore[arg-type]


STEMS: dict[str, str] = {}  # word -> stem(word), filled by bag() and cached_stem()


def cached_stem(word: str) -> str:
    """``stem(word)``, looked up in :data:`STEMS` first (the vocabulary of a dataset repeats)."""
    st = STEMS.get(word)
    if st is None:
        st = stem(word)
        if len(STEMS) < 200_000:
            STEMS[word] = st
    return st


def merge(bags: list[Bag]) -> Bag:
    if len(bags) == 1:
        return bags[0]
    out = Bag(" \n ".join(b.low for b in bags), set(), set(), set(), " \n ".join(b.raw for b in bags))
    for b in bags:
        out.stems |= b.stems
        out.nums |= b.nums
        out.times |= b.times
    return out


def edit1(a: str, b: str) -> bool:
    """Within one edit (or two for long words): a misspelling, not a different word."""
    la, lb = len(a), len(b)
    if abs(la - lb) > 2:
        return False
    return within_edits(a, b, 2 if min(la, lb) >= 8 else 1)


def within_edits(a: str, b: str, k: int) -> bool:
    """Whether the Levenshtein distance of ``a`` and ``b`` is at most ``k`` (a small number).

    Equal leading and trailing letters cost nothing, so they are dropped; then the first letters differ and
    one of three edits (change it, drop it from ``a``, drop it from ``b``) starts every shortest fix.
    """
    i, n = 0, min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    j, n = 0, n - i
    while j < n and a[-1 - j] == b[-1 - j]:
        j += 1
    a, b = a[i:len(a) - j], b[i:len(b) - j]
    if not a or not b:
        return len(a) + len(b) <= k
    if k == 0 or abs(len(a) - len(b)) > k:
        return False
    return (within_edits(a[1:], b[1:], k - 1) or within_edits(a[1:], b, k - 1)
            or within_edits(a, b[1:], k - 1))


def word_grounded(word: str, ev: Bag) -> bool:
    w = word.lower()
    if cached_stem(w) in ev.stems or w in ev.low:
        return True
    if len(w) >= 5:
        return any(edit1(w, x) for x in bag_by_initial(ev).get(w[0], ()) if abs(len(x) - len(w)) <= 2)
    return False


NON_ALNUM = re.compile(r"[^0-9a-z]+")


def id_grounded(tok: str, ev: Bag) -> bool:
    """An id is grounded when it appears, separators aside (b1204 ~ B-1204), in the evidence."""
    low = tok.lower()
    if low in ev.low:
        return True
    key = NON_ALNUM.sub("", low)
    return len(key) >= 4 and key in bag_compact(ev)


def decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def num_close(x: float, ys: set[float] | list[float], tol: float) -> bool:
    return any(abs(x - y) <= tol for y in ys)


CONVERSIONS: tuple[tuple[re.Pattern[str], tuple[Any, ...]], ...] = (
    (re.compile(r"°?\s?f\b|fahrenheit", re.I), (lambda y: y * 9 / 5 + 32,)),
    (re.compile(r"°\s?c\b|celsius", re.I), (lambda y: (y - 32) * 5 / 9,)),
    (re.compile(r"k\b|kelvin", re.I), (lambda y: y + 273.15,)),
    (re.compile(r"mi\b|miles?|mph", re.I), (lambda y: y / 1.609344,)),
    (re.compile(r"km\b|kilomet", re.I), (lambda y: y * 1.609344,)),
    (re.compile(r"lbs?\b|pounds?", re.I), (lambda y: y * 2.20462,)),
    (re.compile(r"kg\b|kilo", re.I), (lambda y: y / 2.20462,)),
    (re.compile(r"ft\b|feet|foot", re.I), (lambda y: y / 0.3048,)),
    (re.compile(r"m\b|met(?:er|re)s?", re.I), (lambda y: y * 0.3048,)),
)


def num_grounded(x: float, tol: float, ev: Bag, *, derive: bool = True, unit: str = "") -> bool:
    """Whether ``x`` (a claim, rounded to ``tol``) is an evidence number, or a simple derivation of one or two.

    Derivations: a unit conversion the claim's own unit names (4 °C -> 39 °F), a common factor (hours ->
    minutes, percent), a sum, difference or percentage of two figures. Exact within rounding, so that a wrong
    figure rarely passes by chance.
    """
    if x in ev.nums or num_close(x, ev.nums, tol):
        return True
    if not derive or not ev.nums:
        return False
    ys = sorted(ev.nums)[:40]
    if unit:
        for rx, fns in CONVERSIONS:
            if rx.match(unit):
                if any(abs(abs(f(y)) - x) <= max(tol, 0.5) for f in fns for y in ys):
                    return True
                break
    tight = max(min(tol, 0.05), abs(x) * 0.001)
    for y in ys:
        for f in FACTORS:
            if abs(y * f - x) <= tight or abs(y / f - x) <= tight:
                return True
    ys = [1.0, *ys]  # "a year older" than 42 is 43
    for i, a in enumerate(ys):
        if abs(2 * a - x) <= tol:
            return True
        for b in ys[i + 1:]:  # two different figures (21 grown by 21% is no derivation)
            if (abs(a + b - x) <= tol or abs(b - a - x) <= tol
                    or (b and abs(a / b * 100 - x) <= tol) or (a and abs(b / a * 100 - x) <= tol)
                    or abs(a * b / 100 - x) <= tol or abs(a * (1 + b / 100) - x) <= tol
                    or abs(b * (1 + a / 100) - x) <= tol):
                return True
    return False


# ----------------------------------------------------------------------------------------------
# tools
@dataclass(slots=True)
class ToolInfo:
    """What the grounding checks need of one offered tool (built once per distinct tool)."""

    name: str
    stems: frozenset[str]                # name and description words
    name_stems: frozenset[str]           # name words (a request naming them fits the tool best)
    params: dict[str, dict[str, Any]]    # top-level parameter schemas
    required: frozenset[str]
    schema_bag: Bag                      # defaults, enums, descriptions, examples: values an argument may take


def tool_info(tool: Any) -> ToolInfo | None:
    fn = tool.get("function") if isinstance(tool, dict) and "function" in tool else tool
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        return None
    name = fn["name"]
    desc: str = fn["description"] if isinstance(fn.get("description"), str) else ""
    params: dict[str, Any] = fn["parameters"] if isinstance(fn.get("parameters"), dict) else {}
    props: dict[str, Any] = params["properties"] if isinstance(params.get("properties"), dict) else {}
    name_words = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).replace("_", " ").replace("-", " ").replace(".", " ")
    param_words = []
    for key, ps in props.items():
        param_words.append(str(key).replace("_", " "))
        if isinstance(ps, dict):
            if isinstance(ps.get("description"), str):
                param_words.append(ps["description"])
            if isinstance(ps.get("enum"), list):
                param_words.extend(str(v).replace("_", " ") for v in ps["enum"])
    b = bag(" ".join([name_words, desc, *param_words]))
    req: list[Any] = params["required"] if isinstance(params.get("required"), list) else []
    try:
        schema_text = json.dumps(params, ensure_ascii=False)
    except (TypeError, ValueError):
        schema_text = ""
    return ToolInfo(name, frozenset(b.stems), frozenset(bag(name_words).stems),
                    {k: v for k, v in props.items() if isinstance(v, dict)},
                    frozenset(x for x in req if isinstance(x, str)), bag(schema_text))


def fit(request: Bag, info: ToolInfo) -> int:
    """Words the request shares with the tool's name and description (name words count twice)."""
    return len(request.stems & info.stems) + len(request.stems & info.name_stems)
