"""Browser sessions: started on sign-in, kept alive by requests, ended on purpose.

The session itself (Django's session store) carries when it started and when it was
last used, so the timeout check needs no query. A `UserSession` row mirrors each
session so that a person's sessions can be listed and ended; it is refreshed at most
once a minute (`TOUCH_SECONDS`) and follows the session key when Django cycles it
(password change). Ending a session deletes it from the session store, so the other
browser is signed out at its next request whichever session engine is configured.
"""

from __future__ import annotations

import datetime as dt
import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from harken.core import audit

from .models import Lockout, LoginFailure, UserSession
from .throttle import client_address

STARTED_KEY = "harken_started_at"
SEEN_KEY = "harken_seen_at"
ROW_KEY = "harken_session_row"
TOUCH_SECONDS = 60


def idle_limit() -> dt.timedelta:
    return dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES)


def absolute_limit() -> dt.timedelta:
    return dt.timedelta(hours=settings.SESSION_MAX_HOURS)


def start(request: Any, user: Any, *, started: dt.datetime | None = None) -> UserSession | None:
    """Record a signed-in session (on every sign-in; `started` when re-recording one)."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    if session.session_key is None:
        session.save()
    now = timezone.now()
    started = started or now
    row, _ = UserSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "started_at": started,
            "last_seen_at": now,
            "address": client_address(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )
    session[STARTED_KEY] = int(started.timestamp())
    session[SEEN_KEY] = int(now.timestamp())
    session[ROW_KEY] = row.pk
    return row


def expiry_reason(request: Any) -> str | None:
    """'idle' or 'absolute' when the request's session has outlived its limit."""
    session = request.session
    now = time.time()
    started = session.get(STARTED_KEY)
    seen = session.get(SEEN_KEY)
    if not isinstance(started, int) or not isinstance(seen, int):
        return None
    if now - started > absolute_limit().total_seconds():
        return "absolute"
    if now - seen > idle_limit().total_seconds():
        return "idle"
    return None


def touch(request: Any) -> None:
    """Note the request; write to the session and the row at most once a minute."""
    session = request.session
    seen = session.get(SEEN_KEY)
    if not isinstance(seen, int) or not isinstance(session.get(STARTED_KEY), int):
        # A session from before this bookkeeping (or a test client's): start it now.
        start(request, request.user)
        return
    now = time.time()
    if now - seen < TOUCH_SECONDS:
        return
    session[SEEN_KEY] = int(now)
    key = session.session_key
    updated = UserSession.objects.filter(pk=session.get(ROW_KEY), user=request.user).update(
        last_seen_at=timezone.now(), session_key=key
    )
    if not updated and key:
        # The row was purged while the session lived on: record it again, same start.
        started = dt.datetime.fromtimestamp(session[STARTED_KEY], tz=dt.UTC)
        start(request, request.user, started=started)


def forget(request: Any) -> None:
    """Drop the row of the request's session (sign-out, expiry)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    rows = UserSession.objects.filter(session_key=session.session_key or "")
    row_id = session.get(ROW_KEY)
    if row_id:
        rows = rows | UserSession.objects.filter(pk=row_id)
    rows.delete()


def active_for(user: Any) -> QuerySet[UserSession]:
    """The person's sessions that have not reached a time limit."""
    now = timezone.now()
    return UserSession.objects.filter(
        user=user,
        last_seen_at__gte=now - idle_limit() - dt.timedelta(seconds=TOUCH_SECONDS),
        started_at__gte=now - absolute_limit(),
    ).order_by("-last_seen_at")


def _session_store() -> Any:
    return import_module(settings.SESSION_ENGINE).SessionStore


def follow_key(request: Any) -> None:
    """After Django cycled the session key (password change), move the row along."""
    session = request.session
    UserSession.objects.filter(pk=session.get(ROW_KEY), user=request.user).update(
        session_key=session.session_key
    )


def end_sessions(user: Any, *, keep: Any = None, reason: str) -> int:
    """Sign `user` out of every session but the one of request `keep`.

    One audit event says how many were ended and why.
    """
    store = _session_store()
    others = UserSession.objects.filter(user=user)
    session = getattr(keep, "session", None)
    if session is not None:
        others = others.exclude(session_key=session.session_key or "")
        if session.get(ROW_KEY):
            others = others.exclude(pk=session[ROW_KEY])
    with transaction.atomic():
        rows = list(others)
        for row in rows:
            store(session_key=row.session_key).delete()
        UserSession.objects.filter(pk__in=[row.pk for row in rows]).delete()
        if rows:
            audit.record(
                "auth.sessions_ended",
                user,
                changes={"sessions": len(rows), "reason": reason, "kept_current": bool(session)},
            )
    return len(rows)


def purge_stale(now: dt.datetime) -> str:
    """`harken tick`: forget timed-out session rows, old failures and ended lock-outs."""
    cutoff = now - idle_limit() - dt.timedelta(seconds=TOUCH_SECONDS)
    sessions = UserSession.objects.filter(last_seen_at__lt=cutoff).delete()[0]
    sessions += UserSession.objects.filter(started_at__lt=now - absolute_limit()).delete()[0]
    keep = dt.timedelta(days=1)
    failures = LoginFailure.objects.filter(at__lt=now - keep).delete()[0]
    locks = Lockout.objects.filter(until__lt=now - keep).delete()[0]
    return (
        f"{sessions} timed-out session records, {failures} old login failures "
        f"and {locks} ended lock-outs removed"
    )
