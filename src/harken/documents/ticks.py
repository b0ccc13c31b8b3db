"""Documents' periodic duty: approved versions take effect on their date."""

from __future__ import annotations

import datetime as dt

from .services import bring_into_effect


def versions_into_effect(now: dt.datetime) -> str:
    return bring_into_effect(now)
