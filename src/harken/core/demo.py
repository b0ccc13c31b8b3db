"""The demo company's people: one login per role (printed by `make run`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from .choices import Role

DEMO_PASSWORD = "harken-demo-2026"  # noqa: S105 - published demo logins, demo data only

# username, first name, last name, roles
DEMO_PEOPLE = (
    ("quality", "Quinn", "Harlow", [Role.QUALITY_MANAGER]),
    ("analyst", "Ana", "Mercer", [Role.QUALITY_ANALYST]),
    ("sales", "Sam", "Okafor", [Role.CUSTOMER_FACING]),
    ("support", "Priya", "Lund", [Role.CUSTOMER_FACING]),
    ("owner", "Omar", "Fitzgerald", [Role.ACTION_OWNER]),
    ("auditor", "Audrey", "Kowalski", [Role.AUDITOR]),
    ("admin", "Adrian", "Vance", [Role.ADMINISTRATOR]),
)


def ensure_role_groups() -> dict[str, Group]:
    return {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}


def demo_loaded() -> bool:
    return get_user_model().objects.filter(username="quality").exists()


def build_people(*, seed: int, stdout: Any = None) -> str:
    groups = ensure_role_groups()
    User = get_user_model()
    for username, first, last, roles in DEMO_PEOPLE:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@harken.example",
            is_staff=Role.ADMINISTRATOR in roles,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.add(*(groups[role] for role in roles))
    return f"{len(DEMO_PEOPLE)} people, one per role (password {DEMO_PASSWORD})"
