"""The chain of custody as a fold (custody.py): each rule, and any sequence of events."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harken.property import custody
from harken.property.choices import CustodyKind as K
from harken.property.choices import PropertyKind
from harken.property.choices import PropertyStatus as S
from harken.property.custody import Custody, CustodyError, Move, apply, derive


def test_an_item_starts_expected_and_nobody_holds_it():
    assert derive([]) == Custody(S.EXPECTED, "", None, "")


def test_a_receipt_puts_the_item_where_it_is_kept():
    state = derive([Move(K.RECEIVED, to_holder="Goods-in", to_location="Bay B")])
    assert state == Custody(S.RECEIVED, "Goods-in", None, "Bay B")


def test_a_move_without_a_holder_stores_the_item_and_clears_the_holder():
    state = derive(
        [
            Move(K.RECEIVED, to_holder="Goods-in", to_location="Bay B"),
            Move(K.MOVED, to_location="Rack T3"),
        ]
    )
    assert state == Custody(S.STORED, "", None, "Rack T3")


def test_an_issue_hands_the_item_over_and_keeps_the_location_when_none_is_given():
    state = derive(
        [
            Move(K.RECEIVED, to_location="Rack T3"),
            Move(K.ISSUED, to_user_id=7),
        ]
    )
    assert state == Custody(S.IN_USE, "", 7, "Rack T3")


def test_use_access_and_sightings_change_nothing():
    received = derive([Move(K.RECEIVED, to_holder="Lab", to_location="Cabinet 2")])
    for kind in (K.USED, K.ACCESSED, K.CHECKED):
        assert apply(received, Move(kind, to_holder="Someone", to_location="Elsewhere")) == received


def test_a_return_gives_the_item_to_the_customer_and_ends_custody():
    state = derive(
        [
            Move(K.RECEIVED, to_location="Rack"),
            Move(K.RETURNED, to_holder="Acme", to_location="Acme goods-in"),
        ]
    )
    assert state == Custody(S.RETURNED, "Acme", None, "Acme goods-in")
    assert custody.allowed(state.status) == [K.RECEIVED]


def test_destruction_leaves_nothing_to_record():
    state = derive([Move(K.RECEIVED, to_location="Share"), Move(K.DESTROYED)])
    assert state == Custody(S.DESTROYED)
    assert custody.allowed(state.status) == []


def test_a_loss_forgets_where_the_item_was_and_damage_does_not():
    held = derive([Move(K.RECEIVED, to_location="Rack"), Move(K.ISSUED, to_holder="Cell 2")])
    assert apply(held, Move(K.LOST)) == Custody(S.LOST_DAMAGED)
    assert apply(held, Move(K.DAMAGED)) == Custody(S.LOST_DAMAGED, "Cell 2", None, "Rack")


def test_a_lost_item_found_again_is_stored_where_it_was_found():
    state = derive(
        [Move(K.RECEIVED, to_location="Rack"), Move(K.LOST), Move(K.MOVED, to_location="Yard")]
    )
    assert state == Custody(S.STORED, "", None, "Yard")


def test_only_credentials_are_revoked():
    received = derive([Move(K.RECEIVED, to_location="Vault")])
    assert K.REVOKED not in custody.allowed(received.status, PropertyKind.TOOLING)
    assert K.REVOKED in custody.allowed(received.status, PropertyKind.CREDENTIALS)
    with pytest.raises(CustodyError):
        apply(received, Move(K.REVOKED), item_kind=PropertyKind.TOOLING)
    assert (
        apply(received, Move(K.REVOKED), item_kind=PropertyKind.CREDENTIALS).status == S.DESTROYED
    )


@pytest.mark.parametrize(
    ("moves", "message"),
    [
        ([Move(K.MOVED, to_location="Rack")], "cannot follow expected"),
        (
            [Move(K.RECEIVED, to_location="Rack"), Move(K.RECEIVED, to_location="Rack")],
            "cannot follow received",
        ),
        ([Move(K.RECEIVED, to_location="Rack"), Move(K.MOVED)], "needs the location"),
        ([Move(K.RECEIVED, to_location="Rack"), Move(K.ISSUED)], "needs the person or process"),
    ],
)
def test_impossible_events_are_refused_with_a_reason(moves, message):
    with pytest.raises(CustodyError, match=message):
        derive(moves)


# Any sequence of events the rules allow, built step by step from the state reached.
HOLDERS = st.sampled_from(["", "Cell 2", "Lab", "Courier"])
LOCATIONS = st.sampled_from(["", "Rack T1", "Rack T3", "Yard"])
USERS = st.sampled_from([None, 1, 2])


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, list[Move]]:
    item_kind = draw(st.sampled_from([PropertyKind.TOOLING, PropertyKind.CREDENTIALS]))
    state, moves = Custody(), []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        options = custody.allowed(state.status, item_kind)
        if not options:
            break
        kind = draw(st.sampled_from(options))
        move = Move(kind, draw(HOLDERS), draw(USERS), draw(LOCATIONS))
        if kind == K.MOVED and not move.to_location:
            move = Move(kind, move.to_holder, move.to_user_id, "Rack T1")
        if kind == K.ISSUED and not move.to_holder and move.to_user_id is None:
            move = Move(kind, "Cell 2", None, move.to_location)
        state = apply(state, move, item_kind=item_kind)
        moves.append(move)
    return item_kind, moves


def oracle(moves: list[Move]) -> Custody:
    """The rules said differently: the last hand-over decides holder and location."""
    holder, user, location, status = "", None, "", S.EXPECTED
    for move in moves:
        if move.kind in {K.USED, K.ACCESSED, K.CHECKED}:
            continue
        if move.kind in {K.DESTROYED, K.REVOKED, K.LOST}:
            holder, user, location = "", None, ""
        elif move.kind == K.DAMAGED:
            pass
        elif move.kind == K.RETURNED:
            holder, user, location = move.to_holder, None, move.to_location
        elif move.kind == K.ISSUED:
            holder, user = move.to_holder, move.to_user_id
            location = move.to_location or location
        else:  # received, moved
            holder, user, location = move.to_holder, move.to_user_id, move.to_location
        status = {
            K.RECEIVED: S.RECEIVED,
            K.RETURNED: S.RETURNED,
            K.DESTROYED: S.DESTROYED,
            K.REVOKED: S.DESTROYED,
            K.LOST: S.LOST_DAMAGED,
            K.DAMAGED: S.LOST_DAMAGED,
            K.ISSUED: S.IN_USE,
        }.get(move.kind, S.IN_USE if holder or user is not None else S.STORED)
    return Custody(status, holder, user, location)


@settings(max_examples=300, deadline=None)
@given(chains())
def test_any_allowed_sequence_ends_where_its_last_hand_over_put_the_item(chain):
    item_kind, moves = chain
    assert derive(moves, item_kind=item_kind) == oracle(moves)
