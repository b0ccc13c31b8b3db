"""Effectiveness checks computed from the perception data, with the right test.

The check compares a baseline window with an evaluation window over the same scope
(categories, product lines, segments, sources) and proposes a verdict:

- **inconclusive** when there is too little data to tell: for rates and counts, fewer
  than `MIN_EVENTS` events in the baseline (a drop from 3 to 1 proves nothing); for
  shares and NPS, fewer than `MIN_ANSWERS` answers in either window;
- **effective** when the target is met *and*, for relative targets, the change is
  statistically significant at `ALPHA` (exact rate-ratio test for complaint rates and
  counts, two-proportion test for CSAT and negative share, z-test for NPS);
- **not effective** otherwise. A "no recurrence" target is met when no matching
  complaint arrived in the evaluation window.

A person (a quality role) confirms or overrides the proposal; both are recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from harken.insights import metrics
from harken.insights.choices import Metric

from .choices import CheckMetric, TargetKind, Verdict

ALPHA = 0.05
MIN_EVENTS = 5
MIN_ANSWERS = 30


@dataclass
class Outcome:
    """The figures of both windows, the test and the proposed verdict."""

    baseline: metrics.Value
    evaluation: metrics.Value
    change: float | None
    relative_change: float | None
    p_value: float | None
    test: str
    verdict: str
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.as_dict(),
            "evaluation": self.evaluation.as_dict(),
            "change": self.change,
            "relative_change": self.relative_change,
            "p_value": self.p_value,
            "test": self.test,
        }


def scope_for(scope: dict[str, Any], date_from: dt.date, date_to: dt.date) -> metrics.Scope:
    def ints(name: str) -> tuple[int, ...]:
        return tuple(int(v) for v in scope.get(name, []) if str(v).isdigit())

    return metrics.Scope(
        date_from,
        date_to,
        sources=ints("sources"),
        segments=tuple(str(v) for v in scope.get("segments", [])),
        product_lines=ints("product_lines"),
        categories=ints("categories"),
        regions=ints("regions"),
    )


METRIC_OF = {
    CheckMetric.COMPLAINT_RATE: Metric.COMPLAINT_RATE,
    CheckMetric.COMPLAINTS: Metric.COMPLAINTS,
    CheckMetric.CSAT: Metric.CSAT,
    CheckMetric.NPS: Metric.NPS,
    CheckMetric.NEGATIVE_SHARE: Metric.NEGATIVE_SHARE,
}
LOWER_IS_BETTER = {CheckMetric.COMPLAINT_RATE, CheckMetric.COMPLAINTS, CheckMetric.NEGATIVE_SHARE}


def evaluate(
    *,
    metric: str,
    scope: dict[str, Any],
    baseline: tuple[dt.date, dt.date],
    evaluation: tuple[dt.date, dt.date],
    target_kind: str,
    target_value: float | None,
) -> Outcome:
    """Compute both windows and propose a verdict (see the module docstring)."""
    insight_metric = METRIC_OF[CheckMetric(metric)]
    base_scope = scope_for(scope, *baseline)
    eval_scope = scope_for(scope, *evaluation)
    if metric in {CheckMetric.COMPLAINT_RATE, CheckMetric.COMPLAINTS}:
        base_scope = metrics.Scope(**{**base_scope.__dict__, "kinds": ("complaint",)})
        eval_scope = metrics.Scope(**{**eval_scope.__dict__, "kinds": ("complaint",)})
    change = metrics.compare(eval_scope, insight_metric, base_scope, alpha=ALPHA)
    before, after = change.previous, change.current
    relative = None
    if before.value is not None and before.value != 0 and after.value is not None:
        relative = (after.value - before.value) / abs(before.value)

    def outcome(verdict: str, explanation: str) -> Outcome:
        return Outcome(
            before,
            after,
            change.difference,
            relative,
            change.p_value,
            change.test,
            verdict,
            explanation,
        )

    if target_kind == TargetKind.NO_RECURRENCE:
        count = after.n if metric in {CheckMetric.COMPLAINT_RATE, CheckMetric.COMPLAINTS} else None
        if count is None:
            return outcome(Verdict.INCONCLUSIVE, "No recurrence is judged on complaints only.")
        if count == 0:
            return outcome(
                Verdict.EFFECTIVE, "No matching complaint arrived in the evaluation window."
            )
        return outcome(
            Verdict.NOT_EFFECTIVE, f"{count} matching complaints arrived in the evaluation window."
        )

    too_little = _too_little(metric, before, after)
    if too_little:
        return outcome(Verdict.INCONCLUSIVE, too_little)
    if after.value is None:
        return outcome(Verdict.INCONCLUSIVE, after.warning or "No value in the evaluation window.")
    significant = change.p_value is not None and change.p_value < ALPHA
    p_text = f"p = {change.p_value:.3g}" if change.p_value is not None else "no test possible"

    if target_kind in {TargetKind.RELATIVE_REDUCTION, TargetKind.RELATIVE_INCREASE}:
        wanted = (target_value or 0.0) / 100.0
        if relative is None:
            return outcome(
                Verdict.INCONCLUSIVE, "The baseline is zero: a relative change is undefined."
            )
        achieved = -relative if target_kind == TargetKind.RELATIVE_REDUCTION else relative
        word = "fell" if relative < 0 else "rose"
        text = (
            f"{Metric(insight_metric).label} {word} from {before.value:.2f} to {after.value:.2f} "
            f"({relative * 100:+.0f}%; {change.test}, {p_text}); the target was a "
            f"{'fall' if target_kind == TargetKind.RELATIVE_REDUCTION else 'rise'} of "
            f"{wanted * 100:.0f}%."
        )
        if achieved >= wanted and significant:
            return outcome(Verdict.EFFECTIVE, text)
        if achieved >= wanted:
            return outcome(
                Verdict.NOT_EFFECTIVE, text + " The change is not statistically significant."
            )
        return outcome(Verdict.NOT_EFFECTIVE, text)

    threshold = target_value if target_value is not None else 0.0
    met = (
        after.value <= threshold if target_kind == TargetKind.AT_MOST else after.value >= threshold
    )
    text = (
        f"{Metric(insight_metric).label} was {after.value:.2f} in the evaluation window "
        f"(baseline {before.value if before.value is not None else float('nan'):.2f}; {p_text}); "
        f"the target was {'at most' if target_kind == TargetKind.AT_MOST else 'at least'} "
        f"{threshold:g}."
    )
    return outcome(Verdict.EFFECTIVE if met else Verdict.NOT_EFFECTIVE, text)


def _too_little(metric: str, before: metrics.Value, after: metrics.Value) -> str:
    if metric in {CheckMetric.COMPLAINT_RATE, CheckMetric.COMPLAINTS}:
        if before.n < MIN_EVENTS:
            return (
                f"Only {before.n} complaints in the baseline window: too few to show a change "
                f"(at least {MIN_EVENTS} needed)."
            )
        if before.value is None or after.value is None:
            return before.warning or after.warning or "No exposure recorded for a window."
        return ""
    for name, value in (("baseline", before), ("evaluation", after)):
        if value.n < MIN_ANSWERS:
            return (
                f"Only {value.n} answers in the {name} window: too few to read "
                f"(at least {MIN_ANSWERS} needed)."
            )
    return ""
