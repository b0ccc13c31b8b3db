"""Sign-in with throttling, the second-factor code, and confirming one's password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError

from harken.core import audit
from harken.core.forms import BootstrapMixin

from . import throttle


def refuse_locked(request: Any, username: str, lock: throttle.Lock) -> ValidationError:
    """Record a refused attempt on a locked account or address; the error to show."""
    audit.record(
        "auth.login_refused",
        actor=audit.Actor.system("anonymous"),
        object_type="core.user",
        object_label=username[:150],
        changes={"reason": "locked", "scope": lock.scope, "until": lock.until},
    )
    return ValidationError(lock.message, code="locked")


class LoginForm(AuthenticationForm):
    """Django's sign-in form behind the lock-out check.

    A locked account or address is refused before any password is checked. A wrong
    password is counted by the `user_login_failed` receiver (accounts/signals.py); when
    that failure reaches the limit, the answer is already the lock-out message.
    """

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not username or not password:
            return self.cleaned_data
        address = throttle.client_address(self.request)
        lock = throttle.active_lock(username, address)
        if lock is not None:
            raise refuse_locked(self.request, username, lock)
        try:
            return super().clean()
        except ValidationError as exc:
            if exc.code == "invalid_login":
                lock = throttle.active_lock(username, address)
                if lock is not None:
                    raise ValidationError(lock.message, code="locked") from exc
            raise


class CodeForm(BootstrapMixin, forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class ConfirmPasswordForm(BootstrapMixin, forms.Form):
    """Re-enter the password of the signed-in person."""

    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )

    def __init__(self, *args: Any, request: Any, **kwargs: Any) -> None:
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        username = user.get_username()
        address = throttle.client_address(self.request)
        lock = throttle.active_lock(username, address)
        if lock is not None:
            raise refuse_locked(self.request, username, lock)
        # authenticate() announces a failure, which counts towards the lock-out.
        checked = authenticate(self.request, username=username, password=password)
        if checked is None or checked.pk != user.pk:
            raise ValidationError("That is not your password.", code="wrong_password")
        return password


class StyledPasswordChangeForm(BootstrapMixin, PasswordChangeForm):
    """Django's password change (old password, then the new one twice, validated)."""
