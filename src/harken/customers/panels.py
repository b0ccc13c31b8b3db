"""The customers panel of the home page: who we serve, by segment and region."""

from typing import Any

from django.db.models import Count
from django.http import HttpRequest

from .choices import CustomerStatus, Segment
from .models import Customer


def customers_panel(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.has_perm("customers.view_customer"):
        return None
    active = Customer.objects.filter(status=CustomerStatus.ACTIVE)
    by_segment = {
        row["segment"]: row["n"] for row in active.values("segment").annotate(n=Count("id"))
    }
    by_region = list(
        active.values("region__name", "region_id").annotate(n=Count("id")).order_by("-n")
    )
    return {
        "template": "customers/_panel.html",
        "active": sum(by_segment.values()),
        "segments": [(label, value, by_segment.get(value, 0)) for value, label in Segment.choices],
        "regions": by_region,
    }
