"""The admin pages for people and roles ask for a recent password; administrators can
reset a person's second factor, sign them out everywhere, and end lock-outs.

The admin's own sign-in form is replaced by Harken's sign-in, so throttling and the
second factor apply there too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from harken.core.admin import HarkenUserAdmin
from harken.core.models import User
from harken.core.reauth import ask_for_password, needs_password

from . import sessions, throttle, twofactor
from .models import Lockout
from .views import admin_login

admin.site.login = admin_login  # type: ignore[method-assign]


class RecentPasswordAdminMixin:
    """Adding, changing and deleting here (and bulk actions) need a recent password."""

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if needs_password(request):
            return ask_for_password(request, request.get_full_path())
        return super().changeform_view(request, *args, **kwargs)  # type: ignore[misc]

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if needs_password(request):
            return ask_for_password(request, request.get_full_path())
        return super().delete_view(request, *args, **kwargs)  # type: ignore[misc]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.method == "POST" and needs_password(request):
            return ask_for_password(request, request.get_full_path())
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


admin.site.unregister(User)


@admin.register(User)
class AccountUserAdmin(RecentPasswordAdminMixin, HarkenUserAdmin):
    actions = ["reset_second_factor", "sign_out_everywhere"]

    def user_change_password(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if needs_password(request):
            return ask_for_password(request, request.get_full_path())
        return super().user_change_password(request, *args, **kwargs)

    @admin.action(description="Reset the second factor (the person sets up a new app)")
    def reset_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        reset = [u for u in queryset if twofactor.remove(u, reason="reset by an administrator")]
        self.message_user(request, f"Second factor reset for {len(reset)} person(s).")

    @admin.action(description="Sign out of every session")
    def sign_out_everywhere(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = sum(
            sessions.end_sessions(u, keep=None, reason="ended by an administrator")
            for u in queryset
            if u.pk != request.user.pk
        )
        self.message_user(request, f"{ended} session(s) ended.")


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(RecentPasswordAdminMixin, GroupAdmin):
    """Roles are groups; renaming one changes who holds which rights."""


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin):
    """Lock-outs are read here; "unlock" ends one early (and is recorded)."""

    list_display = ["scope", "key", "failures", "created_at", "until"]
    list_filter = ["scope"]
    search_fields = ["key"]
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Unlock now", permissions=["view"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[Lockout]) -> None:
        active = queryset.filter(until__gt=timezone.now())
        ended = sum(throttle.unlock(lock.key) for lock in active)
        self.message_user(request, f"{ended} lock-out(s) ended.", messages.SUCCESS)
