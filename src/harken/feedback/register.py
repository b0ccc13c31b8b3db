"""The perception source register as it stood at the end of a past day.

The audit trail holds every create, update and delete of a source with field-level
before/after values, so replaying a source's events in sequence order up to a moment
rebuilds its fields as they were then. An auditor asking "what did the register say
at the last management review?" gets exactly that, with the sequence number of the
last event included as the register's version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harken.core.models import AuditEvent

from .models import PerceptionSource
from .services import register_warnings

SOURCE_TYPE = "feedback.perceptionsource"


def replay(events: Iterable[tuple[int, str, str, dict[str, Any]]]) -> tuple[int | None, dict]:
    """Fold (seq, action, object id, changes) events, in sequence order, into field values.

    Returns the sequence number of the last event folded in (None when there was none)
    and each surviving object's values by object id. `.created` sets every field,
    `.deleted` removes the object, any other event applies its `[before, after]` pairs;
    entries that are not a pair (details of an export, say) change nothing.
    """
    state: dict[str, dict[str, Any]] = {}
    version = None
    for seq, action, object_id, changes in events:
        version = seq
        if action.endswith(".deleted"):
            state.pop(object_id, None)
            continue
        values = {} if action.endswith(".created") else state.get(object_id, {})
        for name, change in (changes or {}).items():
            if isinstance(change, list) and len(change) == 2:
                values[name] = change[1]
        state[object_id] = values
    return version, state


def end_of_day(day: dt.date) -> dt.datetime:
    """The first moment after `day` in the company's time zone."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))


@dataclass
class RegisterAsOf:
    """The register at a moment: its sources (unsaved instances), version and warnings."""

    day: dt.date
    version: int | None
    sources: list[PerceptionSource]
    warnings: list[str]


def source_from_values(object_id: str, values: dict[str, Any]) -> PerceptionSource:
    """An unsaved PerceptionSource carrying replayed values (fields since removed are skipped)."""
    source = PerceptionSource(pk=int(object_id))
    attnames = {f.name: f.attname for f in PerceptionSource._meta.concrete_fields}
    for name, value in values.items():
        # The token is masked in the trail, and never shown on the register anyway.
        if name in attnames and name != "webhook_token":
            setattr(source, attnames[name], value)
    return source


def register_as_of(day: dt.date) -> RegisterAsOf:
    """The register as it stood at the end of `day` (company time zone)."""
    events = (
        AuditEvent.objects.filter(object_type=SOURCE_TYPE, at__lt=end_of_day(day))
        .exclude(object_id="")  # exports of the register name no source
        .order_by("seq")
        .values_list("seq", "action", "object_id", "changes")
    )
    version, state = replay(events.iterator(chunk_size=2000))
    sources = [source_from_values(pk, values) for pk, values in state.items()]
    owner_ids = {s.owner_id for s in sources if s.owner_id}
    users = get_user_model()._default_manager.in_bulk(owner_ids) if owner_ids else {}
    owner_field = PerceptionSource._meta.get_field("owner")
    for source in sources:
        # Cached so that showing the owner costs no query per source; a user deleted
        # since then shows as no owner while the id stays for the warnings.
        owner_field.set_cached_value(source, users.get(source.owner_id))
    sources.sort(key=lambda s: (s.name or "").casefold())
    return RegisterAsOf(day, version, sources, register_warnings(sources))
