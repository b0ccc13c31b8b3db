"""Server-side SVG charts: valid SVG, the expected number of bars and points, stable output."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from harken.insights import charts
from harken.insights import statistics as st
from harken.insights.detection import ChartSeries
from harken.insights.metrics import Scope

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own renderer's output, not outside input


def group(svg: str, gid: str) -> ET.Element:
    root = parse(svg)
    assert root.tag == f"{SVG}svg"
    for element in root.iter(f"{SVG}g"):
        if element.get("id") == gid:
            return element
    raise AssertionError(f"no group {gid!r}")


def groups_starting(svg: str, prefix: str) -> list[str]:
    return [
        g.get("id") or ""
        for g in parse(svg).iter(f"{SVG}g")
        if (g.get("id") or "").startswith(prefix)
    ]


def markers(element: ET.Element) -> int:
    return len(list(element.iter(f"{SVG}use")))


def series_with_spike() -> ChartSeries:
    months = [dt.date(2025, m, 1) for m in range(1, 13)]
    counts = [2, 3, 2, 2, 3, 2, 2, 3, 2, 2, 3, 14]
    exposures = [1000.0] * 12
    chart = st.u_chart(counts, exposures, per=1000.0)
    signals = st.collapse_signals(st.special_causes(chart))
    scope = Scope(months[0], dt.date(2025, 12, 31))
    unit = "complaints per 1,000 orders"
    return ChartSeries(scope, months, counts, exposures, 1000.0, chart, signals, unit)


def test_control_chart_has_a_point_per_month_and_marks_the_special_cause():
    series = series_with_spike()
    # The spike lifts the centre line, so the eleven usual months run below it.
    assert [(s.rule, s.direction) for s in series.signals] == [
        (st.Rule.RUN, st.Direction.BELOW),
        (st.Rule.BEYOND_LIMITS, st.Direction.ABOVE),
    ]
    svg = charts.control_chart(series, title="Valves")
    assert markers(group(svg, "points")) == 12
    assert markers(group(svg, "special-causes")) == 1
    assert markers(group(svg, "special-causes-fewer")) == 11
    assert group(svg, "ucl") is not None and group(svg, "centre") is not None
    assert "Valves" in svg and "2025-12" in svg


def test_control_chart_skips_months_without_exposure():
    months = [dt.date(2025, m, 1) for m in range(1, 5)]
    chart = st.u_chart([1, 2, 0, 1], [100.0, 100.0, 0.0, 100.0])
    exposures = [100.0, 100.0, 0.0, 100.0]
    scope = Scope(months[0], dt.date(2025, 4, 30))
    series = ChartSeries(scope, months, [1, 2, 0, 1], exposures, 1.0, chart, [], "per month")
    svg = charts.control_chart(series)
    assert markers(group(svg, "points")) == 3
    assert groups_starting(svg, "special-causes") == []
    assert "per month" in svg


def test_pareto_draws_a_bar_per_category_largest_first():
    svg = charts.pareto(["Billing", "Delivery", "Quality"], [3, 10, 5], title="Complaints")
    assert groups_starting(svg, "bar-") == ["bar-0", "bar-1", "bar-2"]
    assert markers(group(svg, "cumulative")) == 3
    text = svg
    assert text.index(">Delivery<") < text.index(">Quality<") < text.index(">Billing<")


def test_nps_distribution_has_eleven_bars_coloured_by_group():
    svg = charts.nps_distribution([1, 0, 0, 1, 0, 0, 1, 1, 1, 2, 3])
    assert groups_starting(svg, "bar-") == [f"bar-{score}" for score in range(11)]
    assert "#dc3545" in ET.tostring(group(svg, "bar-6"), encoding="unicode")
    assert "#fd7e14" in ET.tostring(group(svg, "bar-8"), encoding="unicode")
    assert "#198754" in ET.tostring(group(svg, "bar-9"), encoding="unicode")
    with pytest.raises(ValueError, match="11 scores"):
        charts.nps_distribution([1, 2, 3])


def test_line_chart_draws_each_series_and_its_band():
    labels = [dt.date(2025, m, 1) for m in range(1, 7)]
    svg = charts.line_chart(
        labels,
        {"NPS": [10, 12, None, 15, 14, 20], "CSAT %": [80, 82, 85, 84, 86, 88]},
        bands={"NPS": ([0, 2, None, 5, 4, 10], [20, 22, None, 25, 24, 30])},
        unit="score",
    )
    assert markers(group(svg, "series-0")) == 5  # the missing month is left out
    assert markers(group(svg, "series-1")) == 6
    assert groups_starting(svg, "band-") == ["band-0"]
    assert "2025-06" in svg


def test_output_is_deterministic():
    series = series_with_spike()
    assert charts.control_chart(series) == charts.control_chart(series)
    first = charts.pareto(["a", "b"], [1, 2])
    assert first == charts.pareto(["a", "b"], [1, 2])
    assert "<dc:date>" not in first
