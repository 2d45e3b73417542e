"""Small inline-SVG charts (no library, no network): horizontal bars, stacked bars, histograms.

Every chart is an ``<svg class="chart" data-chart=NAME>`` whose bars are
``<rect class="bar">`` with a ``<title>`` tooltip; all text is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

PALETTE = ["#3b82f6", "#ef4444", "#a3a3a3", "#f59e0b", "#10b981", "#8b5cf6", "#ec4899", "#14b8a6"]


def _fmt(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.3g}"


def _empty(name: str, title: str, note: str) -> str:
    return (f'<figure><figcaption>{escape(title)}</figcaption>'
            f'<svg class="chart empty" data-chart="{escape(name)}" width="420" height="40" role="img">'
            f'<text x="4" y="24" class="note">{escape(note)}</text></svg></figure>')


def hbar(name: str, title: str, items: list[tuple[str, float]], *, unit: str = "", max_value: float | None = None,
         color: str = PALETTE[0], label_width: int = 190, width: int = 640, note: str = "nothing to show") -> str:
    """Horizontal bars: one row per (label, value)."""
    if not items:
        return _empty(name, title, note)
    row_h, bar_w = 22, width - label_width - 70
    top = max_value if max_value else max((v for _, v in items), default=0) or 1
    h = row_h * len(items) + 8
    parts = [f'<figure><figcaption>{escape(title)}</figcaption>'
             f'<svg class="chart" data-chart="{escape(name)}" width="{width}" height="{h}" role="img">']
    for i, (label, value) in enumerate(items):
        y = 4 + i * row_h
        w = max(0.0, bar_w * value / top)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" class="label">{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{color}">'
            f'<title>{escape(label)}: {_fmt(value)}{escape(unit)}</title></rect>'
            f'<text x="{label_width + w + 4:.1f}" y="{y + 15}" class="value">{_fmt(value)}{escape(unit)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def stacked(name: str, title: str, rows: list[tuple[str, list[float]]], series: list[str], *,
            label_width: int = 190, width: int = 640, note: str = "nothing to show") -> str:
    """Horizontal stacked bars: one row per label, one segment per series, with a legend."""
    if not rows:
        return _empty(name, title, note)
    row_h, bar_w = 22, width - label_width - 70
    top = max((sum(vals) for _, vals in rows), default=0) or 1
    h = row_h * len(rows) + 30
    parts = [f'<figure><figcaption>{escape(title)}</figcaption>'
             f'<svg class="chart" data-chart="{escape(name)}" width="{width}" height="{h}" role="img">']
    for i, (label, vals) in enumerate(rows):
        y = 4 + i * row_h
        x = float(label_width)
        parts.append(f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" class="label">{escape(label)}</text>')
        for j, v in enumerate(vals):
            if v <= 0:
                continue
            w = bar_w * v / top
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(label)} / {escape(series[j])}: {_fmt(v)}'
                         f'</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" class="value">{_fmt(sum(vals))}</text>')
    ly = 4 + len(rows) * row_h + 14
    lx = label_width
    for j, s in enumerate(series):
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[j % len(PALETTE)]}"/>'
                     f'<text x="{lx + 14}" y="{ly}" class="legend">{escape(s)}</text>')
        lx += 14 + 8 * len(s) + 16
    parts.append("</svg></figure>")
    return "".join(parts)


def histogram(name: str, title: str, bins: list[dict[str, Any]], *, xlabel: str, width: int = 640,
              height: int = 200, note: str = "nothing to show") -> str:
    """Vertical bars from a stats histogram (``{"value", "records"}`` or ``{"from", "to", "records"}``)."""
    if not bins:
        return _empty(name, title, note)
    labels = [str(b["value"]) if "value" in b else f"{b['from']}-{b['to']}" for b in bins]
    counts = [int(b["records"]) for b in bins]
    top = max(counts) or 1
    left, bottom, plot_h = 40, 40, height - 60
    slot = (width - left - 10) / len(bins)
    parts = [f'<figure><figcaption>{escape(title)}</figcaption>'
             f'<svg class="chart" data-chart="{escape(name)}" width="{width}" height="{height}" role="img">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" class="axis"/>',
             f'<text x="{left - 4}" y="{height - bottom - plot_h + 4}" text-anchor="end" class="value">{top}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" class="value">0</text>']
    every = max(1, len(bins) // 10)
    for i, (label, c) in enumerate(zip(labels, counts, strict=True)):
        bh = plot_h * c / top
        x = left + i * slot
        parts.append(f'<rect class="bar" x="{x + 1:.1f}" y="{height - bottom - bh:.1f}" width="{max(slot - 2, 1):.1f}" '
                     f'height="{bh:.1f}" fill="{PALETTE[0]}"><title>{escape(xlabel)} {escape(label)}: {c} records'
                     f'</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                         f'class="tick">{escape(label)}</text>')
    parts.append(f'<text x="{left + (width - left) / 2:.1f}" y="{height - 6}" text-anchor="middle" class="legend">'
                 f'{escape(xlabel)}</text></svg></figure>')
    return "".join(parts)
