"""Diversity you can see and steer (issue #15): how varied the requests and answers of a dataset are.

:func:`diversity_section` is the ``diversity`` section of ``toolforge stats``
(and of the HTML report):

- ``requests`` / ``answers``: distinct-n ratios (distinct n-grams over all
  n-grams, n = 1, 2, 3, over the first user turn / the final answer of each
  record), and the most repeated openings (first three words, folded) with
  their count and share: a teacher that starts half its requests with "Can you
  help me" shows here first;
- ``personas`` / ``topics``: how the generation seeds (``meta.persona``,
  ``meta.topic``) spread: distinct values, the most used, and evenness
  (normalised entropy, 1 = every value equally often);
- ``embedding_spread``: per scenario, the mean cosine distance between request
  embeddings and its spread around the centroid (the ``semantic`` extra's
  all-MiniLM-L6-v2). Embeddings cached by ``toolforge dedup --semantic`` are
  read for free; others are computed only when asked (``embeddings=True``, at
  most ``EMBED_LIMIT`` per scenario), since loading the model takes seconds.

:class:`NearDuplicateGate` is the helper generation calls to reject a request
that is a near duplicate, by embedding, of one already accepted in the run.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolforge.store.db import Store

_WORDS = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
OPENING_WORDS = 3
TOP = 10
EMBED_LIMIT = 400


def words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def distinct_n(texts: Iterable[list[str]], n: int) -> dict[str, Any]:
    """Distinct n-grams over all n-grams of the (tokenised) texts: 1.0 when nothing repeats."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for toks in texts:
        for i in range(len(toks) - n + 1):
            seen.add(tuple(toks[i:i + n]))
            total += 1
    return {"distinct": len(seen), "total": total, "ratio": round(len(seen) / total, 4) if total else None}


def openings(texts: list[list[str]], k: int = OPENING_WORDS, top: int = TOP) -> list[dict[str, Any]]:
    """The most repeated openings (first ``k`` words), with count and share of the texts."""
    c = Counter(" ".join(t[:k]) for t in texts if t)
    n = sum(c.values())
    return [{"opening": o, "records": m, "share": round(m / n, 4)} for o, m in c.most_common(top) if m > 1]


def spread(values: list[Any], top: int = TOP) -> dict[str, Any]:
    """Distinct values, the most used, and evenness (normalised entropy) of one seed field."""
    present = [str(v) for v in values if v not in (None, "")]
    if not present:
        return {"available": False, "reason": "no record states it (meta)"}
    c = Counter(present)
    n = len(present)
    h = -sum(m / n * math.log(m / n) for m in c.values())
    even = round(h / math.log(len(c)), 4) if len(c) > 1 else 0.0
    return {"available": True, "records": n, "share_of_records": round(n / len(values), 4), "distinct": len(c),
            "evenness": even, "top": [{"value": v, "records": m} for v, m in c.most_common(top)]}


def text_figures(texts: list[str]) -> dict[str, Any]:
    toks = [words(t) for t in texts]
    return {"records": len(texts),
            "distinct_1": distinct_n(toks, 1), "distinct_2": distinct_n(toks, 2), "distinct_3": distinct_n(toks, 3),
            "top_openings": openings(toks)}


def _rows(store: Store, per_table: str) -> list[tuple[str, str, str, str, Any, Any]]:
    return store.con.execute(f"""
        SELECT p.id, p.scenario,
          coalesce(list_filter(json_extract(r.messages, '$[*]'), lambda m: m->>'role' = 'user')[1]->>'content', ''),
          coalesce(list_filter(json_extract(r.messages, '$[*]'),
                   lambda m: m->>'role' = 'assistant' AND coalesce(m->>'content', '') <> '')[-1]->>'content', ''),
          r.meta->>'persona', r.meta->>'topic'
        FROM {per_table} p JOIN records r ON r.id = p.id ORDER BY p.id""").fetchall()


def diversity_section(store: Store, per_table: str, *, embeddings: bool | None = None) -> dict[str, Any]:
    """The ``diversity`` section over the records listed in ``per_table`` (columns ``id``, ``scenario``)."""
    rows = _rows(store, per_table)
    if not rows:
        return {"available": False, "reason": "no records selected"}
    return {
        "available": True,
        "requests": text_figures([r[2] for r in rows]),
        "answers": text_figures([r[3] for r in rows if r[3]]),
        "personas": spread([r[4] for r in rows]),
        "topics": spread([r[5] for r in rows]),
        "by_scenario": {s: {"records": len(g), "requests_distinct_2": distinct_n([words(t) for t in g], 2)["ratio"],
                            "top_opening": next(iter(openings([words(t) for t in g], top=1)), None)}
                        for s, g in _group([(r[1], r[2]) for r in rows]).items()},
        "embedding_spread": embedding_spread(store, [(r[0], r[1], r[2]) for r in rows], compute=embeddings),
    }


def _group(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return dict(sorted(out.items()))


def semantic_available() -> str | None:
    """None when the semantic extra (and its packaged model) is installed, else the reason."""
    from toolforge.errors import ToolforgeError

    try:
        from toolforge.dedup.semantic import model_dir

        model_dir()
    except ToolforgeError as exc:
        return exc.message + (f" ({exc.hint})" if getattr(exc, "hint", None) else "")
    return None


def embedding_spread(store: Store, rows: list[tuple[str, str, str]], *, compute: bool | None = None) -> dict[str, Any]:
    """Per scenario: mean pairwise cosine distance of request embeddings and mean distance to the centroid.

    Cached embeddings (``dedup_embeddings``) are used as they are; missing ones are computed only when
    ``compute`` is True (at most ``EMBED_LIMIT`` per scenario). ``compute=None`` uses the cache alone.
    """
    import numpy as np

    why = semantic_available()
    if why is not None:
        return {"available": False, "reason": why}
    from toolforge.dedup.semantic import MODEL_NAME, embed

    cached: dict[str, Any] = {}
    if store.has_table("dedup_embeddings"):
        ids = [r[0] for r in rows]
        for rid, vec in store.con.execute("SELECT record_id, embedding FROM dedup_embeddings WHERE model = ? "
                                          "AND record_id IN (SELECT unnest(?::VARCHAR[]))", [MODEL_NAME, ids]).fetchall():
            cached[rid] = vec
    by: dict[str, list[tuple[str, str]]] = {}
    for rid, scen, text in rows:
        by.setdefault(scen, []).append((rid, text))
    out: dict[str, Any] = {}
    for scen, items in sorted(by.items()):
        have = [np.asarray(cached[rid], dtype=np.float32) for rid, _ in items if rid in cached][:EMBED_LIMIT]
        if compute and len(have) < min(len(items), EMBED_LIMIT):
            todo = [t for rid, t in items if rid not in cached][:EMBED_LIMIT - len(have)]
            have.extend(embed(todo))
        if len(have) < 2:
            out[scen] = {"records": len(items), "embedded": len(have), "mean_distance": None, "centroid_spread": None}
            continue
        m = np.vstack(have)
        m = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
        n = len(m)
        sims = m @ m.T
        mean_sim = (sims.sum() - n) / (n * (n - 1))
        centroid = m.mean(axis=0)
        out[scen] = {"records": len(items), "embedded": n, "mean_distance": round(float(1 - mean_sim), 4),
                     "centroid_spread": round(float(np.linalg.norm(m - centroid, axis=1).mean()), 4)}
    if not any(v["embedded"] for v in out.values()):
        return {"available": False, "reason": "no embeddings cached: run `toolforge dedup --semantic` or "
                                              "`toolforge stats --embeddings`"}
    return {"available": True, "model": MODEL_NAME, "by_scenario": out}


class NearDuplicateGate:
    """Rejects a request whose embedding is within ``threshold`` cosine similarity of one already accepted.

    For generation's accept step (issue #15)::

        gate = NearDuplicateGate.create(threshold=0.92)   # None when the semantic extra is missing
        if gate is not None:
            dup = await asyncio.to_thread(gate.admit, text)  # (similarity, earlier text), or None: admitted

    ``admit`` checks and adds in one step under a lock (safe from worker threads); ``check`` and
    ``add`` are the two halves. ``seed(texts)`` preloads the requests of a resumed run. Embeddings
    are computed one request at a time on the CPU (a few ms each once the model is loaded).
    """

    def __init__(self, threshold: float = 0.92) -> None:
        import threading

        import numpy as np

        self.threshold = threshold
        self._lock = threading.Lock()
        self._texts: list[str] = []
        self._m = np.zeros((0, 384), dtype=np.float32)

    @classmethod
    def create(cls, threshold: float = 0.92) -> NearDuplicateGate | None:
        return cls(threshold) if semantic_available() is None else None

    def _embed(self, texts: list[str]) -> Any:
        from toolforge.dedup.semantic import embed

        return embed(texts)

    def seed(self, texts: list[str]) -> None:
        import numpy as np

        texts = [t for t in texts if t]
        if texts:
            self._m = np.vstack([self._m, self._embed(texts)])
            self._texts.extend(texts)

    def admit(self, text: str) -> tuple[float, str] | None:
        """None when ``text`` is new (it joins the gate), else ``(similarity, the earlier text)``."""
        v = self._embed([text])[0]
        with self._lock:
            hit = self._nearest(v)
            if hit is None:
                import numpy as np

                self._m = np.vstack([self._m, v[None, :]])
                self._texts.append(text)
            return hit

    def _nearest(self, v: Any) -> tuple[float, str] | None:
        if not len(self._texts):
            return None
        sims = self._m @ v
        i = int(sims.argmax())
        return (round(float(sims[i]), 4), self._texts[i]) if sims[i] >= self.threshold else None

    def check(self, text: str) -> tuple[float, str] | None:
        """``(similarity, the earlier text)`` of the nearest admitted request at or above the threshold, else None."""
        v = self._embed([text])[0]
        with self._lock:
            self._last = (text, v)
            return self._nearest(v)

    def add(self, text: str) -> None:
        import numpy as np

        with self._lock:
            last = getattr(self, "_last", None)
            v = last[1] if last is not None and last[0] == text else self._embed([text])[0]
            self._m = np.vstack([self._m, v[None, :]])
            self._texts.append(text)
