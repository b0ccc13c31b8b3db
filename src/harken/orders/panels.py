"""The orders panel of the home page: enquiries waiting for an answer, orders waiting for
acceptance, changes waiting for the customer, escalations past their deadline."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from .choices import OPEN_CHANGE_STATES, OPEN_ENQUIRY_STATES, ChangeStatus, OrderStatus
from .models import ChangeRequest, Enquiry, Order
from .services import overdue_enquiries, overdue_escalations


def orders_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("orders.view_order"):
        return None
    now = timezone.now()
    return {
        "template": "orders/_panel.html",
        "open_enquiries": Enquiry.objects.filter(status__in=OPEN_ENQUIRY_STATES).count(),
        "late_answers": overdue_enquiries(now).count(),
        "pending_orders": Order.objects.filter(status=OrderStatus.PENDING).count(),
        "awaiting_changes": ChangeRequest.objects.filter(status=ChangeStatus.AWAITING).count(),
        "late_changes": ChangeRequest.objects.filter(
            status__in=OPEN_CHANGE_STATES, confirmation_due__lt=now
        ).count(),
        "late_escalations": overdue_escalations(now).count(),
    }
