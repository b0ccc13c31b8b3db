"""Who may do what: the one place where roles become permissions.

A permission is Django's `app_label.verb_model` string (`customers.change_customer`,
`feedback.classify_feedbackitem`). The matrix below grants verbs per role over apps or
single models; nothing else grants anything (deny by default: the database's
per-user permission rows are ignored). Pages, the API and the CLI all ask
`user.has_perm(...)`, which lands here through `RoleBackend`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db import models

from .choices import Role

ANY = "*"

# Verbs beyond Django's add/change/delete/view, used by domain services.
VERBS = (
    "view",
    "add",
    "change",
    "delete",
    "export",
    "import",
    "classify",
    "approve",
    "close",
    "issue",
    "dispose",
)

# Inputs that customer-facing staff record (DESIGN.md: they contribute, never own
# the reporting): whole apps, and from feedback only the items themselves (the source
# register, taxonomy and imports belong to the quality roles). Apps that do not exist
# yet are harmless here.
INPUT_APPS = frozenset({"customers", "property"})
# From orders, the records of an enquiry's way to an order (the intake profiles, review
# checklist and escalation matrix are the method, owned by the quality roles).
ORDER_INPUTS = frozenset(
    f"orders.{model}"
    for model in (
        "enquiry",
        "enquiryattachment",
        "requirementreview",
        "reviewanswer",
        "offer",
        "order",
        "orderversion",
        "changerequest",
        "escalation",
        "notice",
    )
)
INPUTS = INPUT_APPS | ORDER_INPUTS | {"feedback.feedbackitem", "communications.communication"}

# role -> verb -> app labels or "app.model" names, or ANY.
MATRIX: dict[str, dict[str, frozenset[str] | str]] = {
    Role.QUALITY_MANAGER: {
        **dict.fromkeys(VERBS, ANY),
    },
    Role.QUALITY_ANALYST: {
        "view": ANY,
        "add": ANY,
        "change": ANY,
        "export": ANY,
        "import": ANY,
        "classify": ANY,
    },
    Role.CUSTOMER_FACING: {
        "view": INPUT_APPS | {"orders", "feedback", "communications", "documents", "surveys"},
        "add": INPUTS,
        "change": INPUTS,
        "export": frozenset({"customers"}),
    },
    Role.ACTION_OWNER: {
        "view": ANY,
        "add": frozenset({"actions"}),
        "change": frozenset({"actions"}),
    },
    Role.AUDITOR: {
        "view": ANY,
        "export": ANY,
    },
}

# Models only an administrator touches, whatever the matrix says for their app.
# Sessions, sign-in records and second-factor devices (secrets) are the administrator's.
ADMIN_ONLY = frozenset(
    {
        "core.user",
        "core.numbersequence",
        "authtoken.token",
        "auth.group",
        "sessions.session",
        "accounts.usersession",
        "accounts.loginfailure",
        "accounts.lockout",
        "otp_totp.totpdevice",
        "otp_static.staticdevice",
        "otp_static.statictoken",
    }
)
# Models nobody may change through the application (append-only or internal).
READ_ONLY = frozenset({"core.auditevent"})


def split_permission(perm: str) -> tuple[str, str, str]:
    """`customers.change_customer` -> ("customers", "change", "customer")."""
    app_label, _, codename = perm.partition(".")
    verb, _, model = codename.partition("_")
    return app_label, verb, model


def role_allows(role: str, verb: str, app_label: str, model: str) -> bool:
    granted = MATRIX.get(role, {}).get(verb)
    if granted is None:
        return False
    if granted == ANY:
        return True
    return app_label in granted or f"{app_label}.{model}" in granted


def user_allows(user: Any, perm: str) -> bool:
    """The decision itself, for an active user."""
    app_label, verb, model = split_permission(perm)
    qualified = f"{app_label}.{model}"
    if qualified in READ_ONLY and verb not in {"view", "export"}:
        return False
    roles = user.roles
    if user.is_superuser or Role.ADMINISTRATOR in roles:
        return True
    if qualified in ADMIN_ONLY:
        return False
    return any(role_allows(role, verb, app_label, model) for role in roles)


def perm_name(model: type[models.Model] | models.Model, verb: str) -> str:
    meta = model._meta
    return f"{meta.app_label}.{verb}_{meta.model_name}"


def can(user: Any, verb: str, model: type[models.Model] | models.Model) -> bool:
    """Whether `user` may `verb` records of `model` (a class or an instance)."""
    return bool(user and user.is_authenticated and user.has_perm(perm_name(model, verb)))


def is_read_only(user: Any) -> bool:
    """An auditor-only user: everything visible, nothing changeable."""
    roles = user.roles
    return bool(roles) and roles <= {Role.AUDITOR} and not user.is_superuser


class RoleBackend(ModelBackend):
    """Authenticates like Django's ModelBackend; decides permissions from the role matrix."""

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        return user_allows(user_obj, perm)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        if user_obj.is_superuser or Role.ADMINISTRATOR in user_obj.roles:
            return True
        return any(role_allows(role, "view", app_label, "") for role in user_obj.roles)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()
