"""Where each review series stands (its last period, when that review is due, whether it
was held), for the home page's panel and the series pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Max, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from . import services
from .choices import MeetingStatus
from .models import ReviewSeries

REVIEWED_STATES = (MeetingStatus.HELD, MeetingStatus.APPROVED)


def with_reviewed_to(queryset: QuerySet[ReviewSeries]) -> QuerySet[ReviewSeries]:
    """Series annotated with the end of the last period a held meeting reviewed, so a
    list states every series' standing in one query."""
    return queryset.annotate(
        reviewed_to=Max(
            "meetings__period_end",
            filter=Q(meetings__status__in=REVIEWED_STATES),
        )
    )


def state_of(series: ReviewSeries, today: dt.date) -> services.SeriesState:
    """`services.series_state`, answered from the `reviewed_to` annotation when the series
    carries it (the same rule: a held or approved meeting reached the period's end)."""
    if not hasattr(series, "reviewed_to"):
        return services.series_state(series, today)
    start, end = services.last_period(series, today)
    due_on = end + dt.timedelta(days=series.grace_days)
    reviewed_to = series.reviewed_to
    reviewed = reviewed_to is not None and reviewed_to >= end
    return services.SeriesState(
        series,
        (start, end),
        due_on,
        reviewed,
        overdue=not reviewed and today > due_on,
        due_soon=not reviewed and today <= due_on,
    )


def state_text(state: services.SeriesState) -> str:
    if state.reviewed:
        return "reviewed"
    return "OVERDUE" if state.overdue else "due"


def state_badge(state: services.SeriesState) -> SafeString:
    """Reviewed in green, due in amber, OVERDUE in red (and in words, not colour alone)."""
    colour = "success" if state.reviewed else ("danger" if state.overdue else "warning")
    return format_html(
        '<span class="badge text-bg-{}" data-state="{}">{}</span>',
        colour,
        state_text(state),
        state_text(state),
    )


def period_text(start: dt.date, end: dt.date) -> str:
    if start.day == 1 and start.month == end.month and start.year == end.year:
        return f"{start:%B %Y}"
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


def reviews_panel(request: HttpRequest) -> dict[str, Any] | None:
    """Each active series: the last period, when its review is due, and whether it was
    held (reviewed), is still due, or is OVERDUE."""
    if not request.user.has_perm("reviews.view_reviewseries"):
        return None
    today = timezone.localdate()
    series = with_reviewed_to(ReviewSeries.objects.filter(active=True)).order_by("name")
    rows = [state_of(s, today) for s in series]
    return {
        "template": "reviews/_panel.html",
        "rows": [
            {
                "state": row,
                "period": period_text(*row.period),
                "badge": state_badge(row),
            }
            for row in rows
        ],
        "overdue": sum(1 for row in rows if row.overdue),
    }
