"""Audit events that no model save covers: deletes, role changes, sign-ins."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver

from . import audit
from .models import AuditedMixin


@receiver(post_delete)
def record_delete(sender: type, instance: Any, **kwargs: Any) -> None:
    if isinstance(instance, AuditedMixin):
        before = instance._audit_before(instance.audit_fields())
        changes = {name: [value, None] for name, value in before.items()}
        if not changes:
            changes = {name: [value, None] for name, value in instance.audit_values().items()}
        audit.record(f"{instance.audit_name()}.deleted", instance, changes=changes)


@receiver(m2m_changed)
def record_relation_change(
    sender: type, instance: Any, action: str, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    """Additions to and removals from a tracked record's many-to-many fields."""
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not isinstance(instance, AuditedMixin) or sender is get_user_model().groups.through:
        return
    field = next((f for f in instance._meta.many_to_many if f.remote_field.through is sender), None)
    if field is None:
        return
    labels = sorted(str(obj) for obj in model._default_manager.filter(pk__in=pk_set or []))
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    audit.record(f"{instance.audit_name()}.updated", instance, changes={field.name: {verb: labels}})


@receiver(m2m_changed, sender=get_user_model().groups.through)
def record_role_change(
    sender: type, instance: Any, action: str, pk_set: Any, **kwargs: Any
) -> None:
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    from django.contrib.auth.models import Group

    if isinstance(instance, Group):
        return
    instance.__dict__.pop("_harken_roles", None)
    names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    audit.record("user.roles_changed", instance, changes={verb: names})


@receiver(user_logged_in)
def record_login(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record("auth.login", user, actor=audit.Actor.for_user(user), changes=_client(request))


@receiver(user_logged_out)
def record_logout(sender: type, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record("auth.logout", user, actor=audit.Actor.for_user(user))


@receiver(user_login_failed)
def record_login_failure(
    sender: type, credentials: dict, request: Any = None, **kwargs: Any
) -> None:
    # Only the username: the password never reaches the trail.
    username = str(credentials.get("username", ""))[:150]
    audit.record(
        "auth.login_failed",
        actor=audit.Actor.system("anonymous"),
        object_type="core.user",
        object_label=username,
        changes=_client(request),
    )


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    return {
        "address": request.META.get("REMOTE_ADDR", ""),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:200],
    }
