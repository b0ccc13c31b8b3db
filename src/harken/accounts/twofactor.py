"""The optional second factor: a TOTP authenticator app plus one-time recovery codes.

Devices are django-otp's (`TOTPDevice`, and a `StaticDevice` holding the recovery codes),
so its verification, replay protection (a code is accepted once) and per-device
back-off are reused. A person sets up an app on their two-factor page: Harken shows
the QR code (drawn on the server as SVG), the otpauth URI and the secret; a code from
the app confirms it; ten recovery codes are shown once. From then on, sign-in asks for
a code after the password. Roles listed in `settings.OTP_REQUIRED_ROLES` must set one
up before they can work; an administrator can reset a person's second factor.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from harken.core import audit

from . import notify

RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
_NOT_CODE = re.compile(r"[^a-z0-9]")


def app_device(user: Any) -> TOTPDevice | None:
    """The person's confirmed authenticator app, if any."""
    if user is None or not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def is_enrolled(user: Any) -> bool:
    return app_device(user) is not None


def is_required(user: Any) -> bool:
    """Whether one of the person's roles must use a second factor."""
    required = set(settings.OTP_REQUIRED_ROLES)
    return bool(required and (user.roles & required))


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def begin(user: Any) -> TOTPDevice:
    """A fresh, unconfirmed app device (any earlier unconfirmed one is dropped)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)


def pending(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def secret_of(device: TOTPDevice) -> str:
    """The secret as people type it into an app: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth URI as an inline SVG QR code (no script, no external image)."""
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            scale=4, border=2, dark="#000", light="#fff", omitsize=False
        )
    )


def normalise_code(code: str) -> str:
    return _NOT_CODE.sub("", (code or "").lower())


def confirm(user: Any, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm a pending app device with a code from it; returns new recovery codes.

    None when the code is wrong. Any earlier app device is replaced.
    """
    token = normalise_code(code)
    if not token.isdigit() or not verify_token(user, device.persistent_id, token):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _issue_recovery_codes(user)
        audit.record(
            "auth.second_factor_enabled",
            user,
            changes={"device": APP_DEVICE_NAME, "recovery_codes": len(codes)},
        )
        notify.tell(user, "factor_on")
    return codes


def new_recovery_codes(user: Any) -> list[str]:
    """Replace the person's recovery codes (the old ones stop working)."""
    with transaction.atomic():
        codes = _issue_recovery_codes(user)
        audit.record("auth.recovery_codes_renewed", user, changes={"recovery_codes": len(codes)})
        notify.tell(user, "codes")
    return codes


def _issue_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    # 16 base32 characters: 80 random bits each. Only a hash of each is stored (ASVS
    # 2.6.2), cut to the 16 characters django-otp's token column holds.
    codes = [
        base64.b32encode(secrets.token_bytes(10)).decode().lower()
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=stored_form(code)) for code in codes
    )
    return [f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}" for code in codes]


def stored_form(code: str) -> str:
    """What is kept of a recovery code: 80 bits of its SHA-256, in base32. The code itself
    has 80 random bits, so the stored form cannot be turned back into it by trying."""
    digest = hashlib.sha256(f"harken-recovery-code:{code}".encode()).digest()
    return base64.b32encode(digest).decode().lower()[:16]


def verify(user: Any, code: str) -> str | None:
    """Check a sign-in code: 'app' or 'recovery code' when it is good, else None."""
    token = normalise_code(code)
    if not token:
        return None
    with transaction.atomic():
        if token.isdigit():
            device = app_device(user)
            if device is not None and verify_token(user, device.persistent_id, token):
                return "app"
            return None
        for static in StaticDevice.objects.filter(user=user, confirmed=True):
            if verify_token(user, static.persistent_id, stored_form(token)):
                audit.record(
                    "auth.recovery_code_used",
                    user,
                    actor=audit.Actor.for_user(user),
                    changes={"left": recovery_codes_left(user)},
                )
                return "recovery code"
    return None


def remove(user: Any, *, reason: str) -> bool:
    """Remove the person's second factor (they, or an administrator resetting it)."""
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        if removed:
            audit.record("auth.second_factor_removed", user, changes={"reason": reason})
            notify.tell(user, "factor_off")
    return bool(removed)
