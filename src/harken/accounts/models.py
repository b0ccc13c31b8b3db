"""Security bookkeeping for sign-ins: who has which sessions, failed attempts, lock-outs.

These are not domain records and do not derive from the tracked base: a session's
"last seen" changes every minute and a failed attempt is already an audit event
(`auth.login_failed`), so tracking them would flood the audit trail with noise. What
matters to an auditor — sign-ins, lock-outs, sessions ended, second factors set up —
is written to the trail explicitly by the services of this app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import LockScope


class UserSession(models.Model):
    """One signed-in browser session of a person, listable on their sessions page."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="browser_sessions",
    )
    session_key = models.CharField(
        verbose_name=_("session key"),
        max_length=40,
        unique=True,
    )
    started_at = models.DateTimeField(
        verbose_name=_("started at"),
    )
    last_seen_at = models.DateTimeField(
        verbose_name=_("last seen at"),
        db_index=True,
    )
    address = models.CharField(
        verbose_name=_("client address"),
        max_length=45,
        blank=True,
    )
    user_agent = models.CharField(
        verbose_name=_("browser"),
        max_length=300,
        blank=True,
    )

    class Meta:
        ordering = ["-last_seen_at"]
        verbose_name = _("user session")
        verbose_name_plural = _("user sessions")

    def __str__(self) -> str:
        return f"{self.user_id} since {self.started_at:%Y-%m-%d %H:%M} from {self.address}"


class LoginFailure(models.Model):
    """A failed password or second-factor check; counted for throttling, then purged."""

    username = models.CharField(
        verbose_name=_("username (lower case)"),
        max_length=150,
    )
    address = models.CharField(
        verbose_name=_("client address"),
        max_length=45,
        blank=True,
    )
    at = models.DateTimeField(
        verbose_name=_("at"),
        db_index=True,
    )

    class Meta:
        ordering = ["-at"]
        verbose_name = _("login failure")
        verbose_name_plural = _("login failures")
        indexes = [
            models.Index(fields=["username", "at"], name="loginfailure_user_idx"),
            models.Index(fields=["address", "at"], name="loginfailure_address_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.address} at {self.at:%Y-%m-%d %H:%M:%S}"


class Lockout(models.Model):
    """An account or a client address refused sign-in until `until`."""

    scope = models.CharField(
        verbose_name=_("applies to"),
        max_length=16,
        choices=LockScope.choices,
    )
    key = models.CharField(
        verbose_name=_("username or address"),
        max_length=150,
    )
    until = models.DateTimeField(
        verbose_name=_("locked until"),
    )
    failures = models.PositiveIntegerField(
        verbose_name=_("failures counted"),
    )
    created_at = models.DateTimeField(
        verbose_name=_("locked at"),
        auto_now_add=True,
    )

    class Meta:
        ordering = ["-until"]
        verbose_name = _("lock-out")
        verbose_name_plural = _("lock-outs")
        indexes = [
            models.Index(fields=["scope", "key", "until"], name="lockout_lookup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key} until {self.until:%Y-%m-%d %H:%M}"
