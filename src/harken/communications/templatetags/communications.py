"""`{% customer_timeline customer %}`: the latest entries of a customer's timeline, for its page."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from ..timeline import customer_timeline as build_timeline

register = template.Library()

SHOWN = 15


@register.inclusion_tag("communications/_customer_timeline_card.html", takes_context=True)
def customer_timeline(context: Any, customer: Any) -> dict[str, Any]:
    user = context["request"].user
    if not user.has_perm("communications.view_communication"):
        return {"visible": False}
    log_url = ""
    if user.has_perm("communications.add_communication"):
        log_url = reverse("communications:communication_add") + f"?customer={customer.pk}"
    return {
        "visible": True,
        "customer": customer,
        "entries": build_timeline(customer, user=user, limit=SHOWN),
        "log_url": log_url,
        "timeline_url": reverse("communications:customer_timeline", args=[customer.pk]),
    }
