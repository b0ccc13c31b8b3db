"""Named, guarded state transitions.

A model declares its transitions as a tuple of `Transition`s; `apply_transition`
checks the source state, the permission and the guard, saves the new state with
`update_fields`, and writes one audit event named `<model>.<transition>` whose diff
shows `old -> new`. Services wrap it when a transition triggers more (mail, signals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction

from .permissions import perm_name

Guard = Callable[[Any], Iterable[str]]


@dataclass(frozen=True)
class Transition:
    """One move of a record's state: its name, where it may start, where it ends."""

    name: str
    label: str
    sources: frozenset[str]
    target: str
    verb: str = "change"
    # Returns the reasons the move is not possible yet ("root cause is empty").
    guard: Guard | None = None
    # Fields the person must fill in with the move (a reason, a verdict...).
    fields: Sequence[str] = field(default_factory=tuple)
    style: str = "primary"
    # What follows the move, in the same transaction: after(obj, actor).
    after: Callable[[Any, Any], None] | None = None

    def blockers(self, obj: Any) -> list[str]:
        return list(self.guard(obj)) if self.guard else []


class TransitionError(ValidationError):
    """A transition that may not happen now; the message says why."""


def transitions_of(obj: models.Model) -> tuple[Transition, ...]:
    return tuple(getattr(obj, "transitions", ()))


def get_transition(obj: models.Model, name: str) -> Transition:
    for transition in transitions_of(obj):
        if transition.name == name:
            return transition
    raise TransitionError(f"{obj._meta.verbose_name} has no transition named {name!r}.")


def available_transitions(obj: models.Model, user: Any) -> list[tuple[Transition, list[str]]]:
    """The transitions open from the current state that `user` may make, with blockers."""
    state = obj.status  # type: ignore[attr-defined]
    result = []
    for transition in transitions_of(obj):
        if state in transition.sources and user.has_perm(perm_name(obj, transition.verb)):
            result.append((transition, transition.blockers(obj)))
    return result


def apply_transition(
    obj: models.Model,
    name: str,
    *,
    actor: Any,
    values: dict[str, Any] | None = None,
    state_field: str = "status",
) -> models.Model:
    """Move `obj` along transition `name` as `actor` (a user); raise if not allowed."""
    transition = get_transition(obj, name)
    if actor is not None and not actor.has_perm(perm_name(obj, transition.verb)):
        raise PermissionDenied(f"You may not {transition.label.lower()} this record.")
    with transaction.atomic():
        locked = type(obj)._default_manager.select_for_update().get(pk=obj.pk)
        current = getattr(locked, state_field)
        if current not in transition.sources:
            raise TransitionError(
                f"Cannot {transition.label.lower()}: the record is {locked.get_status_display()}."  # type: ignore[attr-defined]
            )
        for key, value in (values or {}).items():
            setattr(obj, key, value)
        setattr(obj, state_field, current)
        reasons = transition.blockers(obj)
        if reasons:
            raise TransitionError(reasons)
        setattr(obj, state_field, transition.target)
        obj.save(  # type: ignore[call-arg]
            update_fields=[state_field, *(values or {})],
            audit_action=f"{obj._meta.model_name}.{transition.name}",
        )
        if transition.after is not None:
            transition.after(obj, actor)
    return obj
