"""Working-day arithmetic in the company's time zone, for targets and deadlines."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment `days` working days after `start`, at the same local time of day.

    Working days are `settings.WORKING_DAYS` (Monday = 0) in the company's time zone;
    a start on a non-working day counts from the next working day's start.
    """
    local = timezone.localtime(start)
    working = set(settings.WORKING_DAYS)
    if not working:
        raise ValueError("HARKEN_WORKING_DAYS names no working day.")
    if local.weekday() not in working:
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        while local.weekday() not in working:
            local += dt.timedelta(days=1)
    remaining = days
    while remaining > 0:
        local += dt.timedelta(days=1)
        if local.weekday() in working:
            remaining -= 1
    # Re-localise: adding days across a DST change must keep the wall-clock time.
    naive = local.replace(tzinfo=None)
    return timezone.make_aware(naive, timezone.get_current_timezone())
