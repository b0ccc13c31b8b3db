"""`{% customer_property customer %}`: the property a customer entrusted to us, for its page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, Q
from django.urls import reverse

from ..choices import HELD_STATES, STATUS_COLOURS, IncidentStatus
from ..models import PropertyItem

register = template.Library()

SHOWN = 15


@register.inclusion_tag("property/_customer_property.html", takes_context=True)
def customer_property(context: Any, customer: Any) -> dict[str, Any]:
    """The items we hold for the customer first, then the latest returned or destroyed."""
    user = context["request"].user
    if not user.has_perm("property.view_propertyitem"):
        return {"visible": False}
    items = (
        PropertyItem.objects.filter(customer=customer)
        .select_related("holder_user")
        .annotate(
            open_incidents=Count("incidents", filter=Q(incidents__status=IncidentStatus.OPEN))
        )
    )
    held = list(items.filter(status__in=HELD_STATES).order_by("number")[:SHOWN])
    others = list(
        items.exclude(status__in=HELD_STATES).order_by("-updated_at")[: SHOWN - len(held)]
    )
    add_url = ""
    if user.has_perm("property.add_propertyitem"):
        add_url = reverse("property:propertyitem_add") + f"?customer={customer.pk}"
    return {
        "visible": True,
        "customer": customer,
        "rows": [(item, STATUS_COLOURS.get(item.status, "secondary")) for item in [*held, *others]],
        "held_count": items.filter(status__in=HELD_STATES).count(),
        "total": items.count(),
        "add_url": add_url,
        "list_url": reverse("property:propertyitem_list") + f"?customer={customer.pk}",
    }
