"""`{% customer_orders customer %}`: a customer's open enquiries, recent orders and open
escalations, for the customer's page."""

from __future__ import annotations

from typing import Any

from django import template

from ..choices import OPEN_ENQUIRY_STATES, EscalationStatus
from ..models import Enquiry, Escalation, Order

register = template.Library()

SHOWN = 10


@register.inclusion_tag("orders/_customer_orders.html", takes_context=True)
def customer_orders(context: Any, customer: Any) -> dict[str, Any]:
    user = context["request"].user
    if not user.has_perm("orders.view_order"):
        return {"visible": False}
    return {
        "visible": True,
        "customer": customer,
        "enquiries": list(
            Enquiry.objects.filter(customer=customer, status__in=OPEN_ENQUIRY_STATES).order_by(
                "-received_at"
            )[:SHOWN]
        ),
        "orders": list(
            Order.objects.filter(customer=customer).order_by("-acceptance_received_at")[:SHOWN]
        ),
        "escalations": list(
            Escalation.objects.filter(customer=customer)
            .exclude(status=EscalationStatus.CLOSED)
            .order_by("-raised_at")[:SHOWN]
        ),
    }
