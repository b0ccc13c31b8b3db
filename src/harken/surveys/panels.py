"""The surveys panel of the home page: what is open and how many answer."""

from __future__ import annotations

from typing import Any

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
    follow-up survey's result. Feedback's page includes it through a record-panel hook
    (see docs/surveys.md); until then the "Closing the loop" button leads to it."""
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
