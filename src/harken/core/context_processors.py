"""Template context shared by every page: the navigation the user may see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .registry import SECTIONS, registry
from .views.generic import url_exists


def harken(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    nav: list[tuple[str, list[tuple[str, str]]]] = []
    if user is not None and user.is_authenticated:
        for section in SECTIONS:
            links = [
                (item.label, reverse(item.url_name))
                for item in registry.menu
                if item.section == section
                and user.has_perm(item.permission)
                # An app whose pages are not routed (yet) shows no link; the menu test
                # in tests/core/test_permissions.py reverses every entry.
                and url_exists(item.url_name)
            ]
            if links:
                nav.append((section, links))
    alerts = []
    if user is not None and user.is_authenticated:
        alerts = [message for alert in registry.alerts if (message := alert(request))]
    return {"harken_nav": nav, "company_name": settings.COMPANY_NAME, "harken_alerts": alerts}
