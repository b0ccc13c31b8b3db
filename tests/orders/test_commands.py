"""`harken orders …`: the same guards from the command line, recorded as the `--as` user."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core import mail as outbox
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.factories import persona
from tests.orders.factories import (
    accepted_order,
    change_awaiting,
    enquiry,
    notice_template,
    pending_order,
    review,
    seller,
)

from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.orders.choices import ChangeStatus, NoticeStatus, OrderStatus
from harken.orders.models import Escalation, EscalationRule, Notice

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("orders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def po_file(tmp_path: Path) -> Path:
    path = tmp_path / "PO-4711.pdf"
    path.write_bytes(b"%PDF purchase order 4711")
    return path


def test_the_command_refuses_to_accept_an_order_without_a_completed_review(po_file):
    staff = seller()
    found = enquiry()
    order = pending_order(found, with_offer=False, file=False)
    with pytest.raises(CommandError) as caught:
        run("accept", order.number, "--po", str(po_file), "--as", staff.username)
    assert (
        str(caught.value) == f"{found.number} has no completed requirement review that accepts it"
    )
    order.refresh_from_db()
    assert (order.status, order.acceptance_file) == (OrderStatus.PENDING, None)
    review(found)
    out = run("accept", order.number, "--po", str(po_file), "--reference", "4711", "--as", "seller")
    order.refresh_from_db()
    assert out.strip() == f"{order.number} accepted for {order.customer.name} (version 1)."
    assert (order.status, order.accepted_by, order.customer_reference) == (
        OrderStatus.ACCEPTED,
        staff,
        "4711",
    )
    assert order.acceptance_file.name == "PO-4711.pdf"
    event = AuditEvent.objects.get(action="order.accept", object_id=str(order.pk))
    assert (event.actor_label, event.request_id[:4]) == ("seller", "cli-")


def test_the_command_names_what_it_cannot_find_or_may_not_do(po_file, auditor):
    with pytest.raises(CommandError, match="No order has the number 'ORD-1999-0001'"):
        run("accept", "ORD-1999-0001")
    found = enquiry()
    review(found)
    order = pending_order(found)
    with pytest.raises(CommandError, match="Your role may not change orders"):
        run("accept", order.number, "--as", auditor.username)
    with pytest.raises(CommandError, match="no such file"):
        run("accept", order.number, "--po", "/nonexistent/po.pdf")


def test_a_change_is_confirmed_from_the_command_line(tmp_path):
    change = change_awaiting()
    evidence = tmp_path / "confirmation.eml"
    evidence.write_bytes(b"Yes, confirmed.")
    out = run("confirm-change", change.number, "--evidence", str(evidence), "--as", "seller")
    change.refresh_from_db()
    assert change.status == ChangeStatus.CONFIRMED
    assert out.strip() == f"{change.number} confirmed: {change.order.number} is now version 2."


def test_an_escalation_is_raised_approved_and_sent_from_the_command_line():
    order = accepted_order()
    to = order.contact.email  # the order's contact is told first
    rule = EscalationRule.objects.get(event_type="shortage", severity="high")
    rule.notice_template = notice_template()
    rule.save()
    seller()
    out = run(
        "raise",
        "--order",
        order.number,
        "--event",
        "shortage",
        "--severity",
        "high",
        "--title",
        "Castings short",
        "--description",
        "Only 150 of 200 castings arrived.",
        "--as",
        "seller",
    )
    raised = Escalation.objects.get()
    assert out.startswith(f"{raised.number} raised for {order.customer.name}; tell the customer by")
    from harken.orders import services

    notice = services.draft_notice(raised, actor=seller())
    with pytest.raises(CommandError, match="Only a quality manager may approve"):
        run("approve-notice", notice.number, "--as", "seller")
    with pytest.raises(CommandError, match="the record is Draft"):
        run("send-notice", notice.number, "--as", "seller")
    persona(Role.QUALITY_MANAGER, "boss")
    run("approve-notice", notice.number, "--as", "boss")
    outbox.outbox.clear()
    out = run("send-notice", notice.number, "--as", "seller")
    notice = Notice.objects.get()
    assert notice.status == NoticeStatus.SENT
    assert out.strip() == (
        f"{notice.number} sent to {to}, logged as {notice.communication.number}."
    )
    assert [m.to for m in outbox.outbox] == [[to]]


def test_the_trace_is_printed(po_file):
    order = accepted_order()
    out = run("trace", order.number)
    assert out.splitlines()[0] == "1. Enquiry"
    assert f"   {order.number}  Accepted" in out
    assert "5. Changes  [No change requested.]" in out
    assert "evidence: po.pdf sha256 " in out
