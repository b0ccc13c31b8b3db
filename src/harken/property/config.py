"""Customer property settings read from the environment (docs/property.md lists them).

Read at call time, not at start-up, so a changed variable takes effect on the next tick
and tests can set them.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ImproperlyConfigured

from harken.core.calendar import add_working_days
from harken.settings import env_int


def review_days() -> int:
    """Days without a custody event after which a held item is due for a check."""
    days = env_int("PROPERTY_REVIEW_DAYS", 180)
    if days < 1:
        raise ImproperlyConfigured("HARKEN_PROPERTY_REVIEW_DAYS must be at least 1.")
    return days


def notify_working_days() -> int:
    """Working days from finding an incident to telling the customer."""
    days = env_int("PROPERTY_NOTIFY_DAYS", 1)
    if days < 0:
        raise ImproperlyConfigured("HARKEN_PROPERTY_NOTIFY_DAYS cannot be negative.")
    return days


def max_file_bytes() -> int:
    """The largest photo, certificate or acknowledgement kept with an item."""
    return env_int("PROPERTY_MAX_FILE_MB", 50) * 1024 * 1024


def notification_deadline(
    *, kind: str, severity: str, discovered_at: dt.datetime
) -> tuple[dt.datetime, str]:
    """When the customer must be told of an incident, and the rule that says so.

    Today one simple rule: HARKEN_PROPERTY_NOTIFY_DAYS working days from when it was
    found. Once the escalation matrix exists (event type and severity → how soon the
    customer is told), this is the one function to change: look up the row for
    ("property incident", kind, severity) and fall back to the simple rule without one.
    """
    days = notify_working_days()
    deadline = add_working_days(discovered_at, days) if days else discovered_at
    return deadline, f"{days} working day{'s' if days != 1 else ''} from discovery"
