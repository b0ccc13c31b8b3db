"""System checks for the account settings: a typo must not silently switch a rule off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from harken.core.choices import Role


@register()
def check_account_settings(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    unknown = sorted(set(settings.OTP_REQUIRED_ROLES) - set(Role.values))
    if unknown:
        errors.append(
            Error(
                f"HARKEN_OTP_REQUIRED_ROLES names unknown roles: {', '.join(unknown)}.",
                hint=f"Use any of: {', '.join(Role.values)}.",
                id="harken.accounts.E001",
            )
        )
    positive = {
        "HARKEN_SESSION_IDLE_MINUTES": settings.SESSION_IDLE_MINUTES,
        "HARKEN_SESSION_MAX_HOURS": settings.SESSION_MAX_HOURS,
        "HARKEN_REAUTH_MINUTES": settings.REAUTH_MINUTES,
        "HARKEN_LOGIN_WINDOW_MINUTES": settings.LOGIN_WINDOW_MINUTES,
        "HARKEN_LOGIN_LOCKOUT_MINUTES": settings.LOGIN_LOCKOUT_MINUTES,
        "HARKEN_LOGIN_FAILURES_PER_ACCOUNT": settings.LOGIN_FAILURES_PER_ACCOUNT,
        "HARKEN_LOGIN_FAILURES_PER_ADDRESS": settings.LOGIN_FAILURES_PER_ADDRESS,
    }
    for name, value in positive.items():
        if value <= 0:
            errors.append(
                Error(
                    f"{name} must be a whole number above 0 (it is {value}).",
                    id="harken.accounts.E002",
                )
            )
    return errors
