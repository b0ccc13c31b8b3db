"""The chain of custody as a fold: who holds an item, where it is and in what state,
computed from its custody events in the order they were recorded.

Plain Python over plain values, so the rules can be read in one place and tested on
any sequence of events. `services.record_custody` uses `apply` for every event it
appends and stores the result on the item; `derive` recomputes it from the whole
chain (the item page and the tests compare the two).

The rules:

- a receipt, a move or an issue hands the item over: its holder and location become
  the event's "to" (a move needs a location, an issue a holder; what the event leaves
  out stays as it was for an issue and is cleared for a move, which puts the item
  down). After a receipt the item is *received*; after a move or an issue it is *in
  use* when someone holds it and *stored* when nobody does;
- use, access and an inventory sighting change nothing about custody;
- a return gives the item to the customer (holder and location are where it went);
  destruction and revocation leave nobody holding it; both end our custody;
- a loss leaves nobody holding it and nowhere known; damage leaves it where it is.
  Both make it *lost or damaged* until it is moved, issued, returned or destroyed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .choices import CustodyKind, PropertyKind, PropertyStatus

S = PropertyStatus
K = CustodyKind

_HOLDING = frozenset(
    {K.MOVED, K.ISSUED, K.USED, K.ACCESSED, K.CHECKED, K.RETURNED, K.DESTROYED, K.LOST, K.DAMAGED}
)
# What may be recorded in each state. Revocation is for credentials only (`allowed`).
ALLOWED: dict[str, frozenset[str]] = {
    S.EXPECTED: frozenset({K.RECEIVED}),
    S.RECEIVED: _HOLDING | {K.REVOKED},
    S.STORED: _HOLDING | {K.REVOKED},
    S.IN_USE: _HOLDING | {K.REVOKED},
    S.LOST_DAMAGED: frozenset(
        {K.MOVED, K.ISSUED, K.CHECKED, K.RETURNED, K.DESTROYED, K.REVOKED, K.LOST, K.DAMAGED}
    ),
    # The customer may send returned tooling back for the next order.
    S.RETURNED: frozenset({K.RECEIVED}),
    S.DESTROYED: frozenset(),
}


class CustodyError(ValueError):
    """An event that cannot follow the item's current state."""


@dataclass(frozen=True)
class Custody:
    """Where an item stands after some events."""

    status: str = S.EXPECTED
    holder: str = ""
    holder_user_id: int | None = None
    location: str = ""


@dataclass(frozen=True)
class Move:
    """What one custody event says, as far as custody is concerned."""

    kind: str
    to_holder: str = ""
    to_user_id: int | None = None
    to_location: str = ""


def allowed(status: str, item_kind: str = "") -> list[str]:
    """The kinds of event that may follow `status`, in the order the form offers them."""
    kinds = ALLOWED.get(status, frozenset())
    order = list(CustodyKind.values)
    result = [k for k in order if k in kinds]
    if item_kind != PropertyKind.CREDENTIALS:
        result = [k for k in result if k != K.REVOKED]
    return result


def _held(holder: str, user_id: int | None) -> str:
    return S.IN_USE if holder or user_id is not None else S.STORED


def apply(state: Custody, move: Move, *, item_kind: str = "") -> Custody:
    """The state after `move`; CustodyError if it cannot follow `state`."""
    if move.kind not in allowed(state.status, item_kind):
        raise CustodyError(
            f"{CustodyKind(move.kind).label} cannot follow {PropertyStatus(state.status).label.lower()}."
        )
    kind = move.kind
    if kind == K.RECEIVED:
        return Custody(S.RECEIVED, move.to_holder, move.to_user_id, move.to_location)
    if kind == K.MOVED:
        if not move.to_location:
            raise CustodyError("A move needs the location the item goes to.")
        return Custody(
            _held(move.to_holder, move.to_user_id),
            move.to_holder,
            move.to_user_id,
            move.to_location,
        )
    if kind == K.ISSUED:
        if not (move.to_holder or move.to_user_id is not None):
            raise CustodyError("An issue needs the person or process the item goes to.")
        return Custody(
            S.IN_USE,
            move.to_holder,
            move.to_user_id,
            move.to_location or state.location,
        )
    if kind in {K.USED, K.ACCESSED, K.CHECKED}:
        return state
    if kind == K.RETURNED:
        return Custody(S.RETURNED, move.to_holder, None, move.to_location)
    if kind in {K.DESTROYED, K.REVOKED}:
        return Custody(S.DESTROYED)
    if kind == K.LOST:
        return Custody(S.LOST_DAMAGED)
    if kind == K.DAMAGED:
        return Custody(S.LOST_DAMAGED, state.holder, state.holder_user_id, state.location)
    raise CustodyError(f"Unknown kind of custody event {kind!r}.")


def derive(moves: Iterable[Move], *, item_kind: str = "") -> Custody:
    """The state after every event of a chain, from an expected item."""
    state = Custody()
    for move in moves:
        state = apply(state, move, item_kind=item_kind)
    return state
