"""Bar charts as server-rendered SVG: no script, readable on a phone, scaled by the viewBox."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

_PAD_LEFT = 28
_PAD_BOTTOM = 18
_PAD_TOP = 12


def bar_chart(
    points: Sequence[tuple[str, int]], *, title: str, width: int = 600, height: int = 200,
    label_every: int = 1,
) -> Markup:
    """One bar per (label, value); the tallest bar reaches the top, the value sits above it."""
    top = max((v for _, v in points), default=0) or 1
    plot_w = width - _PAD_LEFT
    plot_h = height - _PAD_BOTTOM - _PAD_TOP
    slot = plot_w / max(len(points), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="{_PAD_TOP + 4}">{top}</text>',
             f'<line x1="{_PAD_LEFT}" y1="{height - _PAD_BOTTOM}" x2="{width}" '
             f'y2="{height - _PAD_BOTTOM}" stroke="#999"/>']
    for i, (label, value) in enumerate(points):
        x = _PAD_LEFT + i * slot + slot * 0.15
        h = plot_h * value / top
        y = height - _PAD_BOTTOM - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
                     f"<title>{escape(label)}: {value}</title></rect>")
        if value:
            parts.append(f'<text x="{x:.1f}" y="{y - 2:.1f}">{value}</text>')
        if i % label_every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 4}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every caller-supplied piece is escaped above)
