"""Demo assurance: a second recurring theme nobody has disposed of yet (an honest
finding the readiness check shows, beside the overdue complaint acknowledgements the
feedback demo plants), then a readiness run and a chain check."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from harken.actions.models import Theme
from harken.feedback.models import Category, FeedbackItem

from .readiness import run
from .services import check_chain


def build_assurance(*, seed: int, stdout: Any = None) -> str:
    documentation = Category.objects.get(code="documentation")
    theme = Theme.objects.create(
        title="Certificates missing from deliveries",
        description="Customers ask again for certificates of conformity that should travel with the goods.",
        category=documentation,
    )
    since = timezone.now() - dt.timedelta(days=120)
    theme.items.add(
        *FeedbackItem.objects.filter(
            kind="complaint", category=documentation, received_at__gte=since
        )[:30]
    )
    findings, stored = run()
    assert stored is not None  # noqa: S101 - run() stores by default
    check_chain()
    failing = [f.code for f in findings if f.outcome != "pass"]
    return f"readiness: {stored.passed} pass, {stored.failed} fail ({', '.join(failing) or 'none'})"
