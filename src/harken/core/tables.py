"""Columns of list pages and exports: what to show, how to sort, how to link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Column:
    """One column: `accessor` is a dotted attribute path (`region.name`)."""

    accessor: str
    label: str
    order_by: str | None = None
    link: bool = False

    def value(self, obj: Any) -> Any:
        value = obj
        for part in self.accessor.split("."):
            if value is None:
                return None
            display = getattr(value, f"get_{part}_display", None)
            value = display() if callable(display) else getattr(value, part, None)
            if callable(value) and not isinstance(value, models.Manager):
                value = value()
        if isinstance(value, models.Manager):
            return ", ".join(str(item) for item in value.all())
        return value


def text_of(value: Any) -> str:
    """A cell as plain text for exports."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
