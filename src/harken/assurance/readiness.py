"""The readiness check: the auditor's questions asked of the data.

Each app registers its questions with `core.registry.add_readiness(code, question,
check)`; a check returns (count, message, records): how many records break the rule,
a sentence, and up to 50 of those records as (label, url). The thresholds of
`ReadinessRule` turn a count into pass / warn / fail (by default any record fails).
A run is stored, so readiness can be trended and shown as it was.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from harken.core.registry import registry

from .choices import Outcome
from .models import ReadinessRule, ReadinessRun

MAX_RECORDS = 50


@dataclass
class Finding:
    code: str
    question: str
    outcome: str
    count: int
    message: str
    records: list[tuple[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "question": self.question,
            "outcome": self.outcome,
            "count": self.count,
            "message": self.message,
            "records": [list(r) for r in self.records],
        }


def judge(count: int, rule: ReadinessRule | None) -> str:
    warn_above = rule.warn_above if rule else 0
    fail_above = rule.fail_above if rule else 0
    if count > fail_above:
        return Outcome.FAIL
    if count > warn_above:
        return Outcome.WARN
    return Outcome.PASS


def run(
    now: dt.datetime | None = None, *, store: bool = True
) -> tuple[list[Finding], ReadinessRun | None]:
    """Ask every registered question; store the run (a `readinessrun.created` event)."""
    now = now or timezone.now()
    rules = {r.code: r for r in ReadinessRule.objects.all()}
    findings = []
    for code, question, check in registry.readiness:
        rule = rules.get(code)
        if rule is not None and not rule.enabled:
            continue
        count, message, records = check(now)
        findings.append(
            Finding(code, question, judge(count, rule), count, message, list(records)[:MAX_RECORDS])
        )
    stored = None
    if store:
        stored = ReadinessRun.objects.create(
            ran_at=now,
            results=[f.as_dict() for f in findings],
            passed=sum(f.outcome == Outcome.PASS for f in findings),
            warned=sum(f.outcome == Outcome.WARN for f in findings),
            failed=sum(f.outcome == Outcome.FAIL for f in findings),
        )
    return findings, stored


def link(obj: Any) -> tuple[str, str]:
    try:
        url = obj.get_absolute_url()
    except Exception:
        url = ""
    return str(obj), url


# --------------------------------------------------------------------------------------
# The questions about the apps assurance reads
# --------------------------------------------------------------------------------------


def register_complete(now: dt.datetime) -> tuple[int, str, list]:
    from harken.feedback.models import PerceptionSource
    from harken.feedback.services import register_warnings

    warnings = register_warnings()
    ownerless = PerceptionSource.objects.filter(
        active=True, in_scope=True, owner__isnull=True, owner_role=""
    )
    records = [link(s) for s in ownerless]
    if not warnings:
        return 0, "The register has structured and unstructured sources, each with an owner.", []
    return len(warnings), " ".join(warnings), records


def reviews_on_time(now: dt.datetime) -> tuple[int, str, list]:
    from harken.reviews.models import ReviewSeries
    from harken.reviews.services import series_state

    overdue = [
        s
        for s in ReviewSeries.objects.filter(active=True)
        if series_state(s, timezone.localdate(now)).overdue
    ]
    if not ReviewSeries.objects.filter(active=True).exists():
        return 1, "No review series is defined: the method asks for regular review.", []
    if not overdue:
        return 0, "Every review series was reviewed within its cadence.", []
    return len(overdue), f"{len(overdue)} review series overdue.", [link(s) for s in overdue]


def packs_verify(now: dt.datetime) -> tuple[int, str, list]:
    from harken.reviews.models import ReviewPack
    from harken.reviews.services import verify

    broken = [
        p
        for p in ReviewPack.objects.exclude(status="draft").select_related("html_file", "pdf_file")
        if not verify(p).ok
    ]
    count = ReviewPack.objects.exclude(status="draft").count()
    if broken:
        return (
            len(broken),
            f"{len(broken)} of {count} issued packs no longer match their hashes.",
            [link(p) for p in broken],
        )
    return 0, f"All {count} issued packs match their hashes.", []


def themes_disposed(now: dt.datetime) -> tuple[int, str, list]:
    from harken.actions.models import Theme

    missing = Theme.objects.filter(active=True, dispositions__isnull=True)
    count = missing.count()
    if count:
        return (
            count,
            f"{count} recurring themes have no disposition.",
            [link(t) for t in missing[:MAX_RECORDS]],
        )
    return 0, "Every recurring theme has a current disposition.", []


def corrective_root_causes(now: dt.datetime) -> tuple[int, str, list]:
    from harken.actions.models import Action

    stale = now - dt.timedelta(days=30)
    missing = Action.objects.filter(kind="corrective", root_cause="", created_at__lt=stale)
    count = missing.count()
    if count:
        return (
            count,
            f"{count} corrective actions older than 30 days have no root cause.",
            [link(a) for a in missing[:MAX_RECORDS]],
        )
    return 0, "Every corrective action older than 30 days has a root cause.", []


def closed_have_verdicts(now: dt.datetime) -> tuple[int, str, list]:
    from harken.actions.models import Action

    missing = Action.objects.filter(status__in=["closed_effective", "closed_not_effective"]).filter(
        Q(effectiveness_check__isnull=True) | Q(effectiveness_check__verdict="")
    )
    count = missing.count()
    if count:
        return (
            count,
            f"{count} closed actions have no confirmed effectiveness verdict.",
            [link(a) for a in missing],
        )
    return 0, "Every closed action has an effectiveness verdict.", []


def complaints_acknowledged(now: dt.datetime) -> tuple[int, str, list]:
    from harken.feedback.models import FeedbackItem

    late = FeedbackItem.objects.filter(
        kind="complaint", acknowledged_at__isnull=True, acknowledge_due__lt=now
    )
    count = late.count()
    if count:
        return (
            count,
            f"{count} complaints are unacknowledged past their target.",
            [link(i) for i in late.order_by("acknowledge_due")[:MAX_RECORDS]],
        )
    return 0, "No complaint is unacknowledged past its target.", []


def audit_chain(now: dt.datetime) -> tuple[int, str, list]:
    from harken.core.audit import verify_chain

    result = verify_chain()
    if result.ok:
        return 0, f"The audit trail verifies ({result.count} events).", []
    url = reverse("core:audit_verify")
    return (
        1,
        f"The audit trail is broken at event {result.broken_seq}: {result.reason}.",
        [(f"Event {result.broken_seq}", url)],
    )


QUESTIONS = (
    (
        "register",
        "Does the perception source register have a structured and an unstructured source, each with an owner?",
        register_complete,
    ),
    ("reviews", "Was a review held within each review series' cadence?", reviews_on_time),
    ("packs", "Does every issued review pack still match its hash?", packs_verify),
    ("dispositions", "Does every recurring theme have a current disposition?", themes_disposed),
    ("root_causes", "Does every corrective action have a root cause?", corrective_root_causes),
    ("verdicts", "Does every closed action have an effectiveness verdict?", closed_have_verdicts),
    (
        "acknowledgements",
        "Is every complaint acknowledged within its target?",
        complaints_acknowledged,
    ),
    ("audit_trail", "Does the audit trail verify?", audit_chain),
)


def register_questions() -> None:
    for code, question, check in QUESTIONS:
        registry.add_readiness(code, question, check)


def seed_rules(**kwargs: Any) -> None:
    """A settings row per known question, once (all strict: any record fails)."""
    from harken.core.audit import Actor, audit_context

    with audit_context(actor=Actor.system("seed")):
        for code, _, _ in registry.readiness:
            ReadinessRule.objects.get_or_create(code=code)
