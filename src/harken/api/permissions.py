"""API permissions: the same role matrix as the pages (core/permissions.py)."""

from typing import Any

from rest_framework.permissions import BasePermission

from harken.core.permissions import perm_name

METHOD_VERBS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class RolePermission(BasePermission):
    """Signed-in users with the verb the method implies on the view's model.

    A viewset action may name its own verb with `required_verb` (a transition needs
    `change`, an export needs `export`).
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        queryset = getattr(view, "queryset", None)
        if queryset is None:
            return bool(getattr(view, "allow_any_authenticated", False))
        action = getattr(view, getattr(view, "action", "") or "", None)
        verb = getattr(action, "required_verb", None) or METHOD_VERBS.get(request.method, "change")
        return bool(user.has_perm(perm_name(queryset.model, verb)))
