"""The surveys panel of the home page: what is open and how many answer."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest

from . import services
from .choices import SurveyStatus
from .models import Invitation, Survey


def surveys_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("surveys.view_survey"):
        return None
    open_surveys = list(
        Survey.objects.filter(status=SurveyStatus.OPEN).order_by("-opened_at", "-pk")[:5]
    )
    counts = services.status_counts(Invitation.objects.filter(survey__in=open_surveys))
    return {
        "template": "surveys/_panel.html",
        "surveys": open_surveys,
        "open_count": Survey.objects.filter(status=SurveyStatus.OPEN).count(),
        "figures": services.rate_figures(counts),
    }


def complaint_loop_panel(request: HttpRequest, item: Any) -> dict[str, Any] | None:
    """For a complaint's page: whether the customer was told the outcome, and the
    follow-up survey's result, shown on the complaint's page (a record panel)."""
    from .models import LoopCase

    if getattr(item, "kind", "") != "complaint" or not request.user.has_perm(
        "surveys.view_loopcase"
    ):
        return None
    case = (
        LoopCase.objects.filter(complaint=item)
        .select_related("communication", "invitation__response")
        .first()
    )
    return {"template": "surveys/_complaint_loop.html", "case": case}


def action_loop_panel(request: HttpRequest, action: Any) -> dict[str, Any] | None:
    """For an action's page: the customer side of the complaints it rests on — whether
    each customer was told the outcome (and with which approved template) and what the
    follow-up survey said. Complaints are those cited directly and those of its themes."""
    from harken.feedback.choices import ItemKind
    from harken.feedback.models import FeedbackItem

    from .models import LoopCase

    if not request.user.has_perm("surveys.view_loopcase"):
        return None
    complaints = (
        FeedbackItem.objects.filter(kind=ItemKind.COMPLAINT)
        .filter(Q(pk__in=action.items.values("pk")) | Q(themes__in=action.themes.values("pk")))
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )
    ids = list(complaints)
    if not ids:
        return None
    cases = {
        case.complaint_id: case
        for case in LoopCase.objects.filter(complaint__in=ids).select_related(
            "rule__outcome_template", "communication", "invitation__response", "invitation__survey"
        )
    }
    rows: list[dict[str, Any]] = []
    in_loop: list[LoopCase] = []
    for complaint in (
        FeedbackItem.objects.filter(pk__in=ids)
        .select_related("customer")
        .order_by("-received_at", "-pk")
    ):
        case = cases.get(complaint.pk)
        rows.append({"complaint": complaint, "case": case})
        if case is not None:
            in_loop.append(case)
    answered = [r for r in (c.follow_up_response for c in in_loop) if r is not None]
    scores = [a.score for a in answered if a.score is not None]
    return {
        "template": "surveys/_action_loop.html",
        "rows": rows,
        "complaints": len(rows),
        "in_loop": len(in_loop),
        "informed": sum(1 for c in in_loop if c.customer_informed),
        "answered": len(answered),
        "mean_score": sum(scores) / len(scores) if scores else None,
    }
