"""Small server-rendered SVG charts (pure): bars and lines with axes, ticks and data labels.

Only presentation attributes, no ``<style>`` or ``style=``: the report page inlines these
charts under a strict Content-Security-Policy. Every text is escaped; each chart carries an
accessible ``<title>`` and ``<desc>``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

BLUE = "#2563eb"
GREEN = "#16a34a"
INK = "#0f172a"
MUTED = "#64748b"
GRID = "#e2e8f0"
AXIS = "#94a3b8"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

LEFT, RIGHT, TOP, BOTTOM = 52, 16, 48, 64  # plot margins, px


@dataclass(frozen=True, slots=True)
class Chart:
    """What every chart has: a unique id prefix (charts share one page), a title and a text
    description for screen readers."""

    id: str
    title: str
    description: str
    width: int = 640
    height: int = 320


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no value that day (the line breaks)
    colour: str = BLUE


def _num(value: float) -> str:
    """A coordinate with at most one decimal."""
    return f"{value:.1f}".removesuffix(".0")


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top`` (steps of 1, 2, 2.5 or 5 x 10^k)."""
    top = top if top > 0 else 1.0
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _text(x: float, y: float, content: str, *, size: int = 11, fill: str = MUTED,
          anchor: str = "middle", weight: str = "normal", rotate: float = 0) -> str:  # fmt: skip
    turn = f" transform='rotate({_num(rotate)} {_num(x)} {_num(y)})'" if rotate else ""
    return (
        f"<text x='{_num(x)}' y='{_num(y)}' font-size='{size}' fill='{fill}' "
        f"text-anchor='{anchor}' font-weight='{weight}'{turn}>{escape(content)}</text>"
    )


class _Canvas:
    """The frame of a chart: title, description, y grid with tick labels, x labels."""

    def __init__(self, chart: Chart, ticks: Sequence[float], unit: str) -> None:
        self.chart = chart
        self.ticks = ticks
        self.unit = unit
        self.x0, self.x1 = LEFT, chart.width - RIGHT
        self.y0, self.y1 = chart.height - BOTTOM, TOP  # y0: the baseline (bottom)
        self.parts: list[str] = []

    def y(self, value: float) -> float:
        top = self.ticks[-1] or 1.0
        return self.y0 - (self.y0 - self.y1) * min(max(value, 0.0), top) / top

    def frame(self) -> None:
        c = self.chart
        self.parts.append(_text(LEFT, 24, c.title, size=15, fill=INK, anchor="start",
                                weight="600"))  # fmt: skip
        for tick in self.ticks:
            y = self.y(tick)
            self.parts.append(
                f"<line x1='{self.x0}' x2='{self.x1}' y1='{_num(y)}' y2='{_num(y)}' "
                f"stroke='{GRID if tick else AXIS}' stroke-width='1'/>"
            )
            self.parts.append(_text(self.x0 - 6, y + 4, f"{tick:g}{self.unit}", anchor="end"))

    def x_labels(self, centres: Sequence[float], labels: Sequence[str]) -> None:
        """Labels under the x axis; thinned out, and turned, when they would overlap."""
        room = (self.x1 - self.x0) / max(1, len(labels))
        longest = max((len(label) for label in labels), default=0) * 6.5
        turn = longest > room
        every = max(1, math.ceil((14 if turn else longest + 8) / room))
        for i, (x, label) in enumerate(zip(centres, labels, strict=True)):
            if i % every and i != len(labels) - 1:
                continue
            if turn:
                self.parts.append(_text(x + 4, self.y0 + 14, label, anchor="end", rotate=-35))
            else:
                self.parts.append(_text(x, self.y0 + 18, label))

    def empty(self) -> None:
        middle = (self.y0 + self.y1) / 2
        self.parts.append(_text((self.x0 + self.x1) / 2, middle, "No data for these days",
                                size=13))  # fmt: skip

    def svg(self) -> str:
        c = self.chart
        title_id, desc_id = f"{c.id}-title", f"{c.id}-desc"
        return (
            f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {c.width} {c.height}' "
            f"width='{c.width}' height='{c.height}' role='img' "
            f"aria-labelledby='{title_id} {desc_id}' font-family={quoteattr(FONT)}>"
            f"<title id='{title_id}'>{escape(c.title)}</title>"
            f"<desc id='{desc_id}'>{escape(c.description)}</desc>"
            f"<rect width='{c.width}' height='{c.height}' fill='#ffffff'/>"
            + "".join(self.parts)
            + "</svg>"
        )


def bar_chart(
    chart: Chart,
    bars: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    digits: int = 0,
    colour: str = BLUE,
    colours: Sequence[str] | None = None,
    gap: float = 0.35,
) -> str:
    """Vertical bars with their values above them; ``gap`` is the share of each slot left
    empty (0 for a histogram); ``colours`` gives each bar its own colour."""
    top = max((value for _, value in bars), default=0.0)
    canvas = _Canvas(chart, nice_ticks(top * 1.1), unit)
    canvas.frame()
    if not bars or top <= 0:
        canvas.empty()
        canvas.x_labels([], [])
        return canvas.svg()
    slot = (canvas.x1 - canvas.x0) / len(bars)
    width = max(1.0, slot * (1 - gap))
    centres = []
    for i, (label, value) in enumerate(bars):
        x = canvas.x0 + slot * i + (slot - width) / 2
        y = canvas.y(value)
        fill = colours[i] if colours else colour
        shown = f"{value:,.{digits}f}{unit}"
        canvas.parts.append(
            f"<rect x='{_num(x)}' y='{_num(y)}' width='{_num(width)}' "
            f"height='{_num(canvas.y0 - y)}' fill='{fill}' rx='2'>"
            f"<title>{escape(f'{label}: {shown}')}</title></rect>"
        )
        if value:
            canvas.parts.append(_text(x + width / 2, y - 5, shown, size=11, fill=INK))
        centres.append(x + width / 2)
    canvas.x_labels(centres, [label for label, _ in bars])
    return canvas.svg()


def line_chart(
    chart: Chart,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    top: float | None = None,
    digits: int = 0,
) -> str:
    """Lines over ``labels`` (one point each), broken where a value is missing; a legend
    names the series and each point's tooltip gives its value."""
    values = [v for s in series for v in s.values if v is not None]
    canvas = _Canvas(chart, nice_ticks(top if top is not None else max(values, default=0.0)),
                     unit)  # fmt: skip
    canvas.frame()
    step = (canvas.x1 - canvas.x0) / max(1, len(labels))
    centres = [canvas.x0 + step * (i + 0.5) for i in range(len(labels))]
    if not values:
        canvas.empty()
    x = canvas.x1
    for s in reversed(series):  # legend, right-aligned on the title's line
        x -= 14 + 7 * len(s.name)
        canvas.parts.append(
            f"<rect x='{_num(x)}' y='14' width='10' height='10' rx='2' fill='{s.colour}'/>"
        )
        canvas.parts.append(_text(x + 14, 23, s.name, anchor="start", fill=INK))
        x -= 12
    for s in series:
        path, pen_down = [], False
        for cx, value in zip(centres, s.values, strict=True):
            if value is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{_num(cx)} {_num(canvas.y(value))}")
            pen_down = True
        if path:
            canvas.parts.append(
                f"<path d='{' '.join(path)}' fill='none' stroke='{s.colour}' stroke-width='2.5' "
                "stroke-linejoin='round' stroke-linecap='round'/>"
            )
        for cx, label, value in zip(centres, labels, s.values, strict=True):
            if value is None:
                continue
            shown = f"{value:.{digits}f}{unit}"
            canvas.parts.append(
                f"<circle cx='{_num(cx)}' cy='{_num(canvas.y(value))}' r='3.5' fill='#ffffff' "
                f"stroke='{s.colour}' stroke-width='2'>"
                f"<title>{escape(f'{s.name}, {label}: {shown}')}</title></circle>"
            )
    canvas.x_labels(centres, labels)
    return canvas.svg()
