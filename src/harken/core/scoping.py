"""Object-level access: customer-facing staff see the customers they serve.

When the company chooses so (`HARKEN_STAFF_OWN_CUSTOMERS_ONLY=1`), a person whose only
reading role is customer-facing sees, in every list, page and API answer, only the
records of the customers they are the account owner of, and whatever they recorded
themselves (a call logged before its customer was known). Anyone who also holds a
quality, action owner, auditor or administrator role sees everything their roles grant,
as without the setting.

Apps say how a model reaches its customer (`register("orders.order", "customer")`); the
generic pages (core.views.generic) and the API (a filter backend and the history
action) narrow their querysets through `scope_queryset`. A record outside the scope is
"not found", never "forbidden", so its existence is not given away.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from rest_framework.filters import BaseFilterBackend

from .choices import Role

# app_label.model_name -> the lookup path from the model to its customer ("" for the
# customer itself)
CUSTOMER_PATHS: dict[str, str] = {}

# Roles that read beyond their own accounts.
WIDE_ROLES = frozenset(
    {
        Role.QUALITY_MANAGER,
        Role.QUALITY_ANALYST,
        Role.ACTION_OWNER,
        Role.AUDITOR,
        Role.ADMINISTRATOR,
    }
)


def register(model: str, path: str) -> None:
    """Declare how records of `model` ("app_label.model_name") reach their customer."""
    CUSTOMER_PATHS[model] = path


def enabled() -> bool:
    return bool(getattr(settings, "STAFF_OWN_CUSTOMERS_ONLY", False))


def is_scoped(user: Any) -> bool:
    """Whether `user` sees only their own customers' records."""
    if not enabled() or user is None or not user.is_authenticated or user.is_superuser:
        return False
    roles = set(user.roles)
    return Role.CUSTOMER_FACING in roles and not roles & WIDE_ROLES


def scope_filter(user: Any, model: type[models.Model]) -> Q | None:
    """The condition a scoped user's view of `model` is narrowed by; None when the model
    is not tied to customers or the user is not scoped."""
    path = CUSTOMER_PATHS.get(model._meta.label_lower)
    if path is None or not is_scoped(user):
        return None
    owner = f"{path}__account_owner" if path else "account_owner"
    condition = Q(**{owner: user.pk})
    if any(f.name == "created_by" for f in model._meta.concrete_fields):
        condition |= Q(created_by=user.pk)
    return condition


def scope_queryset(user: Any, queryset: QuerySet[Any]) -> QuerySet[Any]:
    condition = scope_filter(user, queryset.model)
    return queryset if condition is None else queryset.filter(condition)


def in_scope(user: Any, obj: models.Model) -> bool:
    """Whether a single record is visible to `user`."""
    condition = scope_filter(user, type(obj))
    if condition is None:
        return True
    return type(obj)._default_manager.filter(condition, pk=obj.pk).exists()


class CustomerScopeFilter(BaseFilterBackend):
    """A DRF filter backend: API lists and single records narrowed to the user's scope.
    It takes no query parameters, so the schema gains none."""

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        return scope_queryset(request.user, queryset)
