"""The home page and the audit trail pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ..audit import verify_chain
from ..filters import AuditEventFilterSet
from ..models import AuditEvent
from ..registry import registry
from ..tables import Column
from .generic import ObjectDetailView, ObjectListView


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard shell: what each app contributes, plus the latest audit events."""
    panels: list[dict[str, Any]] = []
    for _name, panel in registry.panels:
        result = panel(request)
        if result:
            panels.append(result)
    recent = []
    if request.user.has_perm("core.view_auditevent"):
        recent = list(AuditEvent.objects.order_by("-seq")[:10])
    return render(request, "core/home.html", {"panels": panels, "recent_events": recent})


class AuditEventListView(ObjectListView):
    model = AuditEvent
    filterset_class = AuditEventFilterSet
    default_order = "-seq"
    template_name = "core/auditevent_list.html"
    columns = (
        Column("seq", "#", order_by="seq", link=True),
        Column("at", "Time (UTC)", order_by="at"),
        Column("actor_label", "Actor", order_by="actor_label"),
        Column("action", "Action", order_by="action"),
        Column("object_type", "Type"),
        Column("object_label", "Object"),
        Column("request_id", "Request"),
    )
    export_columns = (
        *columns,
        Column("changes", "Changes"),
        Column("prev_hash", "Previous hash"),
        Column("hash", "Hash"),
    )


class AuditEventDetailView(ObjectDetailView):
    model = AuditEvent
    template_name = "core/auditevent_detail.html"
    fields = (
        Column("seq", "Sequence"),
        Column("at", "Time"),
        Column("actor_type", "Actor type"),
        Column("actor_label", "Actor"),
        Column("action", "Action"),
        Column("object_type", "Object type"),
        Column("object_id", "Object id"),
        Column("object_label", "Object"),
        Column("request_id", "Request id"),
        Column("prev_hash", "Previous hash"),
        Column("hash", "Hash"),
    )


@require_GET
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Recompute the chain on demand (the same check as `harken audit verify`)."""
    from django.core.exceptions import PermissionDenied

    if not request.user.has_perm("core.view_auditevent"):
        raise PermissionDenied
    result = verify_chain()
    return render(request, "core/audit_verify.html", {"result": result})
