"""Template helpers for the generic pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def toggle_sort(column: str, current: str) -> str:
    """Clicking the sorted column reverses it; another column sorts ascending."""
    return f"-{column}" if current == column else column


@register.filter
def index(sequence: Any, position: int) -> Any:
    return sequence[position]


@register.filter
def cell(value: Any) -> Any:
    """A value as a table cell: dates in the company zone, booleans as words, empties as a dash."""
    if value is None or value == "":
        return mark_safe('<span class="text-muted">—</span>')
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return date_filter(
            timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d H:i"
        )
    if isinstance(value, dt.date):
        return date_filter(value, "Y-m-d")
    return value


@register.filter
def json_value(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@register.simple_tag
def badge(label: Any, colour: str = "secondary") -> str:
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, label)


@register.inclusion_tag("generic/_object_links.html", takes_context=True)
def object_links(context: Any, obj: Any) -> dict[str, Any]:
    """Buttons other apps offer on this record (core.registry.ObjectLink)."""
    from django.urls import reverse

    from ..registry import registry

    user = context["request"].user
    label = obj._meta.label_lower
    links = [
        (link.label, f"{reverse(link.url_name)}?{link.param}={obj.pk}", link.style)
        for link in registry.object_links
        if link.model == label and user.has_perm(link.permission)
    ]
    return {"links": links}
