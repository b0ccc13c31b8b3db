"""The tamper-evident audit trail: who is acting, how events are written and verified.

Every event carries the SHA-256 of the previous one, so altering, inserting or
removing a stored event breaks the chain at that point and `harken audit verify`
names it. Events are written in the same transaction as the change they describe.

The chain must stay linear when several writers work at once. On PostgreSQL a
transaction-level advisory lock serialises the "read head, append" step; on SQLite
the settings open every transaction with BEGIN IMMEDIATE, which takes the database
write lock before the head is read. The unique sequence number is the last guard.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models, router, transaction
from django.utils import timezone

from .choices import ActorType
from .rows import Statement, Trip

if TYPE_CHECKING:
    from django.http import HttpRequest

    from .models import AuditEvent

GENESIS_HASH = "0" * 64
MASK = "••••••"
# Any constant works; it only has to be the same in every process of one deployment.
CHAIN_LOCK_KEY = 0x4841524B454E  # "HARKEN"


@dataclass(frozen=True)
class Actor:
    """The one responsible for a change: a person, an API token, an import batch or the system."""

    type: str
    label: str
    user_id: int | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(type=ActorType.SYSTEM, label=label)

    @classmethod
    def for_user(cls, user: Any, *, via_token: bool = False) -> Actor:
        return cls(
            type=ActorType.TOKEN if via_token else ActorType.USER,
            label=user.get_username(),
            user_id=user.pk,
        )


@dataclass
class AuditContext:
    """What the current request, command or job knows about who acts and why."""

    actor: Actor | None = None
    request: HttpRequest | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


_context: ContextVar[AuditContext | None] = ContextVar("harken_audit_context", default=None)


@contextmanager
def audit_context(
    *,
    actor: Actor | None = None,
    request: HttpRequest | None = None,
    request_id: str | None = None,
) -> Iterator[AuditContext]:
    """Run a block as `actor` (or as the user of `request`), under one request id."""
    context = AuditContext(actor=actor, request=request)
    if request_id:
        context.request_id = request_id
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def current_context() -> AuditContext:
    return _context.get() or AuditContext()


def current_actor() -> Actor:
    """The actor of the running request, command or job; the system when none is set."""
    context = _context.get()
    if context is None:
        return Actor.system()
    if context.actor is not None:
        return context.actor
    request = context.request
    user = getattr(request, "user", None)
    if request is not None and user is not None and user.is_authenticated:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        return Actor.for_user(user, via_token=header.startswith("Token "))
    return Actor.system("anonymous")


def current_user_id() -> int | None:
    return current_actor().user_id


def jsonable(value: Any) -> Any:
    """Turn a field value into the JSON value stored in (and hashed with) an event."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    name = getattr(value, "name", None)  # files stored in FileFields
    if isinstance(name, str):
        return name
    return str(value)


def canonical_bytes(payload: Mapping[str, Any]) -> bytes:
    """The one serialisation that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The fields of an event that its hash covers."""
    return {
        "seq": event.seq,
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor_type": event.actor_type,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_label": event.object_label,
        "changes": event.changes,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_bytes(event_payload(event))).hexdigest()


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    return obj._meta.label_lower


def take_chain(trip: Trip) -> Statement:
    """Queue on `trip` the taking of the chain (until the transaction ends) and the read of
    its last link, in that order; give the returned statement to `link`.

    On SQLite the transaction already holds the database's only write lock (IMMEDIATE).
    """
    from .models import AuditEvent

    table = trip.connection.ops.quote_name(AuditEvent._meta.db_table)
    if trip.postgresql:
        trip.add("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    # Plain SQL: this runs for every audited change, and compiling the ORM query cost
    # more than the query itself.
    return trip.add(f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1")  # noqa: S608 - our table


def link(events: Sequence[AuditEvent], head: Statement) -> None:
    """Number, date and hash `events` in order after the chain's last link (`head`, the
    statement `take_chain` queued, once its trip has run)."""
    seq, prev_hash = (
        (int(head.rows[0][0]), str(head.rows[0][1])) if head.rows else (0, GENESIS_HASH)
    )
    at = timezone.now()
    for pending in events:
        seq += 1
        pending.seq = seq
        pending.at = at
        pending.prev_hash = prev_hash
        pending.hash = prev_hash = compute_hash(pending)


def event(
    action: str,
    obj: models.Model | None = None,
    *,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    actor: Actor | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """An event not yet in the chain (no sequence, time or hashes): give it to `append`.

    The actor and request id are those of the current context unless given.
    """
    from .models import AuditEvent

    actor = actor or current_actor()
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:255]
    return AuditEvent(
        actor_type=actor.type,
        actor_id=actor.user_id,
        actor_label=actor.label[:150],
        action=action,
        object_type=object_type,
        object_id=object_id[:64],
        object_label=object_label[:255],
        changes=jsonable(dict(changes or {})),
        request_id=request_id or current_context().request_id,
    )


def append(events: Sequence[AuditEvent]) -> list[AuditEvent]:
    """Append events made by `event` to the chain, in order, in the caller's transaction.

    One lock, one read of the head and one INSERT however many events: busy paths that
    change many records at once (a group of survey answers, a chunk of feedback items)
    write their events together. Each event still links to the one before it.
    """
    from .models import AuditEvent

    if not events:
        return []
    using = router.db_for_write(AuditEvent)
    # No savepoint of our own: a failed append fails the caller's transaction anyway,
    # and a savepoint costs two more round trips on every audited change.
    with transaction.atomic(using=using, savepoint=False):
        trip = Trip(using)
        head = take_chain(trip)
        trip.run()
        link(events, head)
        trip.insert(events)
        trip.run()
    return list(events)


def record(
    action: str,
    obj: models.Model | None = None,
    *,
    changes: Mapping[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
    actor: Actor | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    `action` is a dotted name (`customer.updated`, `auth.login`, `pack.issued`).
    `changes` maps a field to `[before, after]`, or carries the event's own details.
    """
    pending = event(
        action,
        obj,
        changes=changes,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label,
        actor=actor,
    )
    return append([pending])[0]


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of recomputing the chain."""

    count: int
    broken_seq: int | None = None
    reason: str = ""
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(*, using: str = "default", progress: Any = None) -> VerifyResult:
    """Recompute every event's hash and link; name the first broken sequence number.

    `progress`, when given, is called with the number of events checked so far.
    """
    from .models import AuditEvent

    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    events = AuditEvent.objects.using(using).order_by("seq").iterator(chunk_size=5000)
    for event in events:
        if event.seq != expected_seq:
            return VerifyResult(
                count, expected_seq, f"event {expected_seq} is missing (next is {event.seq})"
            )
        if event.prev_hash != prev_hash:
            return VerifyResult(count, event.seq, "its previous-hash link does not match")
        if compute_hash(event) != event.hash:
            return VerifyResult(count, event.seq, "its content does not match its hash")
        prev_hash = event.hash
        expected_seq += 1
        count += 1
        if progress is not None and count % 5000 == 0:
            progress(count)
    return VerifyResult(count, head_hash=prev_hash)
