"""Sentences that say what the figures say — generated from them, never invented.

Pure functions: given a metric's value in two periods, the test's p-value, the
sample sizes and how many periods in a row it has moved the same way, write the
sentence a quality manager would write, with its p-value, or say that the sample is
too small to read.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

ORDINALS = {2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh", 8: "eighth"}
ALPHA = 0.05


@dataclass(frozen=True)
class Figure:
    """A metric in the current and previous period, ready to be told."""

    label: str  # "Delivery complaints on Industrial Valves"
    current: float | None
    previous: float | None
    unit: str = ""  # "per 1,000 orders", "%", ""
    p_value: float | None = None
    higher_is_worse: bool = False
    streak: int = 1  # periods in a row moving in the current direction (incl. this one)
    period_word: str = "quarter"
    decimals: int = 1
    warning: str | None = None


def number(value: float, decimals: int) -> str:
    return f"{value:,.{decimals}f}"


def streak_of(values: list[float | None]) -> int:
    """How many periods in a row, ending with the last, the value moved the same way
    (1 when the last change has no predecessor in its direction)."""
    known = [v for v in values if v is not None]
    steps = [(b > a) - (b < a) for a, b in itertools.pairwise(known)]
    if not steps or steps[-1] == 0:
        return 1
    count = 0
    for step in reversed(steps):
        if step != steps[-1]:
            break
        count += 1
    return count


def sentence(figure: Figure) -> str:
    """One sentence about the change, with its significance."""
    unit = f" {figure.unit}" if figure.unit and figure.unit != "%" else ""
    pct = "%" if figure.unit == "%" else ""
    if figure.current is None:
        return f"{figure.label}: no data in this {figure.period_word}."
    now = number(figure.current, figure.decimals) + pct
    if figure.previous is None:
        return f"{figure.label} was {now}{unit}; there is nothing to compare it with."
    before = number(figure.previous, figure.decimals) + pct
    if figure.warning and figure.p_value is None:
        caveat = figure.warning.rstrip(".").lower()
        return f"{figure.label} was {now}{unit} (previously {before}), {caveat}."
    if round(figure.current, figure.decimals) == round(figure.previous, figure.decimals):
        return f"{figure.label} held at {now}{unit}."
    rose = figure.current > figure.previous
    verb = "rose" if rose else "fell"
    noun = "rise" if rose else "fall"
    worse = rose == figure.higher_is_worse
    text = f"{figure.label} {verb} from {before} to {now}{unit}"
    if figure.p_value is None:
        return text + ", with no test possible on these figures."
    p = f"p = {figure.p_value:.2g}" if figure.p_value >= 0.001 else "p < 0.001"
    if figure.p_value < ALPHA:
        text += f", a significant {noun} ({p})"
        if figure.streak >= 2:
            nth = ORDINALS.get(figure.streak, f"{figure.streak}th")
            text += f", the {nth} {figure.period_word} in a row"
        text += "."
        if worse:
            text += " This needs attention."
        return text
    return text + f", a change within the range of chance ({p})."
