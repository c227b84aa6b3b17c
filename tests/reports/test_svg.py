"""The SVG charts are well-formed, accessible, escaped and carry their data labels."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from lastmile.reports.svg import Chart, Series, bar_chart, line_chart, nice_ticks

NS = "{http://www.w3.org/2000/svg}"
CHART = Chart("t", "Failed <attempts> & more", "A description with <tags> & ampersands.")


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(el.itertext()) for el in root.iter() if el.tag in (f"{NS}text", f"{NS}title")]


def test_bar_chart_is_accessible_and_escaped() -> None:
    """Title and description come first and are escaped; every bar's label and value show."""
    svg = bar_chart(CHART, [("Not <home>", 12), ("Refused & gone", 3)], unit=" kg")
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "t-title t-desc"
    assert root[0].tag == f"{NS}title"
    assert root[0].text == "Failed <attempts> & more"
    assert root[1].tag == f"{NS}desc"
    assert "<tags> & ampersands" in (root[1].text or "")
    shown = texts(svg)
    assert {"Not <home>", "Refused & gone", "12 kg", "3 kg"} <= set(shown)
    assert len(root.findall(f"{NS}rect")) == 3  # background and two bars


def test_charts_use_no_style_or_script() -> None:
    """Only presentation attributes: the page inlines them under a strict CSP."""
    for svg in (bar_chart(CHART, [("a", 1)]),
                line_chart(CHART, ["1 May"], [Series("On time", [50.0])])):  # fmt: skip
        root = ET.fromstring(svg)
        tags = {el.tag for el in root.iter()}
        assert f"{NS}style" not in tags
        assert f"{NS}script" not in tags
        assert all("style" not in el.attrib for el in root.iter())


def test_line_chart_breaks_where_a_day_has_no_value() -> None:
    """A missing value splits the line; every present point has a tooltip with its value."""
    series = [Series("On time", [90.0, None, 80.5])]
    svg = line_chart(CHART, ["1 May", "2 May", "3 May"], series, unit="%", top=100, digits=1)
    root = ET.fromstring(svg)
    (path,) = root.iter(f"{NS}path")
    assert path.get("d", "").count("M") == 2
    shown = texts(svg)
    assert "On time, 1 May: 90.0%" in shown
    assert "On time, 3 May: 80.5%" in shown
    assert {"1 May", "2 May", "3 May", "100%", "0%"} <= set(shown)


def test_empty_chart_says_so() -> None:
    """With nothing to draw the chart says there is no data instead of drawing nothing."""
    for svg in (bar_chart(CHART, []), bar_chart(CHART, [("a", 0)]),
                line_chart(CHART, ["1 May"], [Series("x", [None])])):  # fmt: skip
        assert "No data for these days" in texts(svg)


def test_many_labels_are_thinned_out() -> None:
    """A year of days does not print 366 overlapping labels; the last day is always shown."""
    labels = [f"day {i}" for i in range(366)]
    svg = line_chart(CHART, labels, [Series("x", [50.0] * 366)])
    shown = [t for t in texts(svg) if t.startswith("day ")]
    assert len(shown) < 60
    assert "day 365" in shown


def test_nice_ticks_cover_the_top_in_round_steps() -> None:
    """Ticks start at 0, step by 1, 2, 2.5 or 5 x 10^k and reach the largest value."""
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])  # nothing: 0 to 1
