"""Login throttling: failures counted per account and per client address, in the database.

Why the database and not a cache: Harken runs several gunicorn workers (and on
PostgreSQL several app servers), and the counts must be shared by all of them on
SQLite as on PostgreSQL without another service. A failure is one small INSERT; the
check is two indexed COUNTs and one lookup of a lock-out row.

The rule (settings, `docs/configuration.md`): `LOGIN_FAILURES_PER_ACCOUNT` failures for
one username within `LOGIN_WINDOW_MINUTES` lock that username for
`LOGIN_LOCKOUT_MINUTES`; `LOGIN_FAILURES_PER_ADDRESS` failures from one address within
the window lock the address. While locked, no password is checked at all, so a
locked account cannot be guessed further. A lock-out is written to the audit trail.
The username need not exist: unknown and known names are treated alike, so the
answers do not reveal which accounts exist.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone

from harken.core import audit

from .choices import LockScope
from .models import Lockout, LoginFailure


@dataclass(frozen=True)
class Lock:
    """An active lock-out, with the sentence to show the person."""

    scope: str
    until: dt.datetime

    @property
    def message(self) -> str:
        local = timezone.localtime(self.until)
        when = formats.time_format(local, "H:i")
        minutes = max(1, round((self.until - timezone.now()).total_seconds() / 60))
        if self.scope == LockScope.ACCOUNT:
            return (
                f"This account is locked after too many failed sign-ins. "
                f"Try again after {when} (in about {minutes} minutes), "
                "or ask an administrator to unlock it."
            )
        return (
            f"Too many failed sign-ins came from your network address. "
            f"Try again after {when} (in about {minutes} minutes)."
        )


def normalise(username: str) -> str:
    return (username or "").strip().lower()[:150]


def client_address(request: Any) -> str:
    """The client's IP address: the proxy's last X-Forwarded-For entry when Harken is
    behind one (HARKEN_BEHIND_PROXY), else the connection's address."""
    if request is None:
        return ""
    candidates = []
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            candidates.append(forwarded.split(",")[-1].strip())
    candidates.append(request.META.get("REMOTE_ADDR", ""))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return ""


def active_lock(username: str, address: str) -> Lock | None:
    """The lock-out that refuses this sign-in now, if any (the account's first)."""
    now = timezone.now()
    keys = [(LockScope.ACCOUNT, normalise(username))]
    if address:
        keys.append((LockScope.ADDRESS, address))
    for scope, key in keys:
        if not key:
            continue
        until = (
            Lockout.objects.filter(scope=scope, key=key, until__gt=now)
            .order_by("-until")
            .values_list("until", flat=True)
            .first()
        )
        if until is not None:
            return Lock(scope=scope, until=until)
    return None


def record_failure(username: str, address: str) -> Lock | None:
    """Count one failure; lock the account or address when it reaches its limit.

    Returns the lock-out this failure caused, if any.
    """
    name = normalise(username)
    now = timezone.now()
    since = now - dt.timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    until = now + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    caused: Lock | None = None
    with transaction.atomic():
        LoginFailure.objects.create(username=name, address=address, at=now)
        limits = [(LockScope.ACCOUNT, name, settings.LOGIN_FAILURES_PER_ACCOUNT, "username")]
        if address:
            limits.append(
                (LockScope.ADDRESS, address, settings.LOGIN_FAILURES_PER_ADDRESS, "address")
            )
        for scope, key, limit, field in limits:
            if not key or limit <= 0:
                continue
            if Lockout.objects.filter(scope=scope, key=key, until__gt=now).exists():
                continue
            # Failures before the last lock-out ended were already punished once.
            last_lock = (
                Lockout.objects.filter(scope=scope, key=key)
                .order_by("-until")
                .values_list("until", flat=True)
                .first()
            )
            counted_since = max(since, last_lock) if last_lock else since
            count = LoginFailure.objects.filter(**{field: key, "at__gte": counted_since}).count()
            if count >= limit:
                Lockout.objects.create(scope=scope, key=key, until=until, failures=count)
                audit.record(
                    "auth.locked_out",
                    actor=audit.Actor.system("login throttling"),
                    object_type="core.user" if scope == LockScope.ACCOUNT else "",
                    object_label=key,
                    changes={
                        "scope": scope,
                        "failures": count,
                        "window_minutes": settings.LOGIN_WINDOW_MINUTES,
                        "until": until,
                        "address": address,
                    },
                )
                caused = caused or Lock(scope=scope, until=until)
    return caused


def record_success(username: str) -> None:
    """A full sign-in clears the account's failures (the address keeps its count)."""
    LoginFailure.objects.filter(username=normalise(username)).delete()


def unlock(key: str) -> int:
    """End the active lock-outs of a username or address; returns how many ended."""
    now = timezone.now()
    name = normalise(key)
    with transaction.atomic():
        ended = 0
        for lock in Lockout.objects.filter(until__gt=now, key__in={name, key.strip()}):
            lock.until = now
            lock.save(update_fields=["until"])
            LoginFailure.objects.filter(username=name).delete()
            audit.record(
                "auth.unlocked",
                object_type="core.user" if lock.scope == LockScope.ACCOUNT else "",
                object_label=lock.key,
                changes={"scope": lock.scope},
            )
            ended += 1
    return ended
