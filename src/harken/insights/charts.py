"""Server-side SVG charts (matplotlib) for documents that cannot run JavaScript: the
review pack's PDF and HTML. The same charts as the dashboard draws with Chart.js.

matplotlib is imported inside each function (it is heavy and only reports need it),
with the Agg backend. The output is deterministic: a fixed hash salt for the SVG ids,
no creation date in the metadata, text kept as text. Artists carry ids (`gid`) such as
`bar-3`, `points` and `special-causes`, so tests and style sheets can find them.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .detection import ChartSeries

BLUE = "#0d6efd"
RED = "#dc3545"
AMBER = "#fd7e14"
GREEN = "#198754"
GREY = "#6c757d"
PALETTE = (BLUE, RED, GREEN, AMBER, "#6f42c1", "#20c997", "#d63384", GREY)
SIZE = (7.0, 3.2)  # inches; 100 dpi in the SVG's user units

RC: Any = {  # a dict; typed loosely because the stubs list every rc key
    "svg.hashsalt": "harken",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


@contextmanager
def _figure(size: tuple[float, float] = SIZE) -> Iterator[tuple[Any, Any]]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        figure = Figure(figsize=size, dpi=100)
        axes = figure.add_subplot()
        yield figure, axes


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        bbox_inches="tight",
        metadata={"Date": None, "Creator": "Harken"},
    )
    return buffer.getvalue()


def _numbers(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _month_labels(labels: Sequence[Any]) -> list[str]:
    return [f"{label:%Y-%m}" if hasattr(label, "strftime") else str(label) for label in labels]


def line_chart(
    labels: Sequence[Any],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str = "",
    unit: str = "",
    bands: Mapping[str, tuple[Sequence[float | None], Sequence[float | None]]] | None = None,
) -> str:
    """Lines per period, one per named series; `bands` shades a series' interval."""
    names = _month_labels(labels)
    positions = list(range(len(names)))
    with _figure() as (figure, axes):
        for index, (name, values) in enumerate(series.items()):
            colour = PALETTE[index % len(PALETTE)]
            if bands and name in bands:
                lower, upper = bands[name]
                band = axes.fill_between(
                    positions,
                    _numbers(lower),
                    _numbers(upper),
                    color=colour,
                    alpha=0.15,
                    linewidth=0,
                )
                band.set_gid(f"band-{index}")
            (line,) = axes.plot(
                positions, _numbers(values), marker="o", markersize=3, color=colour, label=name
            )
            line.set_gid(f"series-{index}")
        axes.set_xticks(positions, names, rotation=45, ha="right")
        if unit:
            axes.set_ylabel(unit)
        if title:
            axes.set_title(title)
        if len(series) > 1:
            axes.legend(frameon=False)
        return _svg(figure)


def control_chart(series: ChartSeries, *, title: str = "") -> str:
    """A u-chart: points, centre line, each period's limits as steps; special-cause
    points in red (more complaints than usual) or green (fewer)."""
    points = series.chart.points
    positions = list(range(len(points)))
    values = _numbers([p.value for p in points])
    worse: set[int] = set()
    better: set[int] = set()
    for signal in series.signals:
        up = signal.direction in {"above", "increasing"}
        (worse if up else better).update(range(signal.start, signal.end + 1))
    with _figure() as (figure, axes):
        (ucl,) = axes.step(
            positions,
            _numbers([p.ucl for p in points]),
            where="mid",
            color=GREY,
            linestyle="--",
            linewidth=0.8,
            label="control limits",
        )
        ucl.set_gid("ucl")
        (lcl,) = axes.step(
            positions,
            _numbers([p.lcl for p in points]),
            where="mid",
            color=GREY,
            linestyle="--",
            linewidth=0.8,
        )
        lcl.set_gid("lcl")
        (centre,) = axes.plot(
            positions,
            _numbers([p.centre for p in points]),
            color=GREEN,
            linewidth=1,
            label="centre line",
        )
        centre.set_gid("centre")
        (line,) = axes.plot(
            positions, values, marker="o", markersize=3.5, color=BLUE, label=series.unit
        )
        line.set_gid("points")
        for gid, indices, colour, label in (
            ("special-causes", worse, RED, "more complaints than usual"),
            ("special-causes-fewer", better - worse, GREEN, "fewer complaints than usual"),
        ):
            marked = [i for i in sorted(indices) if not math.isnan(values[i])]
            if marked:
                (dots,) = axes.plot(
                    marked,
                    [values[i] for i in marked],
                    linestyle="none",
                    marker="o",
                    markersize=6,
                    color=colour,
                    label=label,
                )
                dots.set_gid(gid)
        axes.set_xticks(positions, _month_labels(series.labels), rotation=45, ha="right")
        axes.set_ylim(bottom=0)
        axes.set_ylabel(series.unit)
        if title:
            axes.set_title(title)
        axes.legend(frameon=False, fontsize=7)
        return _svg(figure)


def pareto(labels: Sequence[str], counts: Sequence[int], *, title: str = "") -> str:
    """Bars largest first with the cumulative share on a 0–100 % axis."""
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    names = [labels[i] for i in order]
    heights = [counts[i] for i in order]
    total = sum(heights) or 1
    cumulative, running = [], 0
    for height in heights:
        running += height
        cumulative.append(100.0 * running / total)
    positions = list(range(len(heights)))
    with _figure() as (figure, axes):
        bars = axes.bar(positions, heights, color=BLUE)
        for index, bar in enumerate(bars):
            bar.set_gid(f"bar-{index}")
        axes.set_xticks(positions, names, rotation=45, ha="right")
        axes.set_ylabel("complaints")
        share = axes.twinx()
        (line,) = share.plot(positions, cumulative, marker="o", markersize=3, color=AMBER)
        line.set_gid("cumulative")
        share.set_ylim(0, 105)
        share.set_ylabel("cumulative %")
        if title:
            axes.set_title(title)
        return _svg(figure)


def nps_distribution(counts: Sequence[int], *, title: str = "") -> str:
    """Answers per score 0–10: detractors red, passives amber, promoters green."""
    if len(counts) != 11:
        raise ValueError(f"An NPS distribution has 11 scores (0–10), not {len(counts)}.")
    scores = list(range(11))
    colours = [RED if s <= 6 else AMBER if s <= 8 else GREEN for s in scores]
    with _figure((5.0, 2.6)) as (figure, axes):
        bars = axes.bar(scores, list(counts), color=colours)
        for score, bar in zip(scores, bars, strict=True):
            bar.set_gid(f"bar-{score}")
        axes.set_xticks(scores, [str(s) for s in scores])
        axes.set_xlabel("score")
        axes.set_ylabel("answers")
        if title:
            axes.set_title(title)
        return _svg(figure)
