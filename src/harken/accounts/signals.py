"""Sign-in, sign-out and failed sign-ins feed the session list, throttling and re-auth."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from harken.core import audit, reauth

from . import notify, sessions, throttle


@receiver(user_logged_in)
def on_login(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    sessions.start(request, user)
    reauth.mark_password_entered(request)
    throttle.record_success(user.get_username())


@receiver(user_logged_out)
def on_logout(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        sessions.forget(request)


@receiver(user_login_failed)
def on_login_failed(sender: type, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))
    if username:
        throttle.record_failure(username, throttle.client_address(request))


@receiver(post_save, sender=get_user_model())
def on_user_saved(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    """A new password ends the person's other sessions (ASVS 3.3.3).

    The session that changed it (the person's own) stays; when an administrator sets
    it, all of the person's sessions end.
    """
    if created:
        return
    loaded = instance._audit_loaded or {}
    if "password" not in loaded or loaded["password"] == instance.password:
        return
    request = audit.current_context().request
    mine = request is not None and getattr(request.user, "pk", None) == instance.pk
    sessions.end_sessions(instance, keep=request if mine else None, reason="password changed")
    before = loaded["password"] or ""
    if before and not before.startswith("!"):  # not the first password an account gets
        notify.tell(instance, "password")
