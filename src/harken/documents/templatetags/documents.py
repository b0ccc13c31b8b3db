"""`{% customer_documents customer %}`: the controlled documents a customer holds."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import F, OuterRef, Subquery

from ..models import Distribution

register = template.Library()


@register.inclusion_tag("documents/_customer_documents_table.html", takes_context=True)
def customer_documents(context: Any, customer: Any) -> dict[str, Any]:
    """The latest copy of each document the customer was given, and whether it is still valid."""
    user = context["request"].user
    if not user.has_perm("documents.view_distribution"):
        return {"visible": False}
    latest = (
        Distribution.objects.filter(
            customer=customer, version__document=OuterRef("version__document")
        )
        .order_by("-distributed_at", "-pk")
        .values("pk")[:1]
    )
    rows = (
        Distribution.objects.filter(customer=customer)
        .annotate(latest_pk=Subquery(latest))
        .filter(pk=F("latest_pk"))
        .select_related("version__document")
        .order_by("version__document__number")
    )
    return {
        "visible": True,
        "customer": customer,
        "rows": list(rows),
    }
