"""The order workflow's rules, through its services: intake, review, offer, acceptance,
changes, escalations and notices, deadlines in working days, and the tick."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail as outbox
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone
from tests.communications.factories import CommunicationFactory
from tests.documents.factories import DocumentFactory, approved
from tests.factories import ContactFactory, CustomerFactory, ProductLineFactory, persona
from tests.orders.factories import (
    IntakeProfileFactory,
    ReviewQuestionFactory,
    accepted_order,
    change_awaiting,
    enquiry,
    notice_template,
    offer,
    pending_order,
    review,
    reviewer,
    seller,
    upload,
)

from harken.communications.choices import Direction
from harken.communications.services import communications_about
from harken.core.choices import Role
from harken.core.models import AuditEvent
from harken.core.workflow import TransitionError, apply_transition
from harken.documents.choices import DocumentKind, Occasion
from harken.documents.models import Distribution
from harken.orders import auditor, services
from harken.orders.choices import (
    Answer,
    ChangeAspect,
    ChangeOrigin,
    ChangeStatus,
    EnquiryStatus,
    EscalationStatus,
    EventType,
    NoticeStatus,
    OfferStatus,
    OrderStatus,
    ReviewOutcome,
    ReviewStatus,
    Severity,
)
from harken.orders.models import EscalationRule, Order, ReviewQuestion
from harken.orders.ticks import escalation_deadlines, first_responses

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


# --------------------------------------------------------------------------------------
# Intake and its deadline
# --------------------------------------------------------------------------------------


def test_the_first_response_is_due_one_working_day_later_in_the_company_time_zone():
    # Friday 16:30 in Berlin (15:30 UTC): the next working day is Monday, same local time.
    friday = berlin(2026, 3, 27, 16, 30)
    found = enquiry(received_at=friday)
    assert timezone.localtime(found.first_response_due) == berlin(2026, 3, 30, 16, 30)
    # Daylight saving began on the Sunday: still 16:30 in Berlin, an hour earlier in UTC.
    assert found.first_response_due.astimezone(dt.UTC) == dt.datetime(
        2026, 3, 30, 14, 30, tzinfo=dt.UTC
    )


def test_a_product_line_profile_sets_its_own_first_response_target():
    line = ProductLineFactory(code="CAL")
    IntakeProfileFactory(product_line=line, first_response_days=3)
    # Saturday counts from Monday's start: three working days later is Thursday 00:00.
    found = enquiry(product_line=line, received_at=berlin(2026, 6, 6, 11, 0))
    assert timezone.localtime(found.first_response_due) == berlin(2026, 6, 11, 0, 0)


def test_the_review_cannot_start_until_the_required_intake_is_filled():
    line = ProductLineFactory(code="MAC")
    IntakeProfileFactory(
        product_line=line, required_fields=["requested_scope", "requirements_statutory"]
    )
    found = enquiry(product_line=line, requirements_statutory="")
    with pytest.raises(TransitionError) as caught:
        services.start_review(found, actor=reviewer())
    assert caught.value.messages == [
        "fill in the required intake: statutory and regulatory requirements"
    ]
    found.refresh_from_db()
    assert found.status == EnquiryStatus.RECEIVED
    services.update_enquiry(found, actor=seller(), requirements_statutory="PED category II")
    opened = services.start_review(found, actor=reviewer())
    assert (opened.number[:4], opened.round, found.status) == ("RRV-", 1, EnquiryStatus.IN_REVIEW)


def test_without_a_profile_the_default_intake_is_required():
    found = enquiry(requested_delivery=None, contact=None)
    assert services.intake_for(None).required_fields == (
        "contact",
        "requested_scope",
        "requirements_stated",
        "requested_delivery",
    )
    with pytest.raises(TransitionError, match="contact, requested delivery date"):
        services.start_review(found, actor=reviewer())


def test_an_enquiry_received_with_a_communication_is_linked_to_it():
    customer = CustomerFactory()
    call = CommunicationFactory(
        customer=customer, occurred_at=timezone.now() - dt.timedelta(hours=3)
    )
    found = enquiry(customer=customer, received_via=call, received_at=None)
    assert found.received_at == call.occurred_at
    assert list(communications_about(found)) == [call]


def test_the_first_outbound_exchange_is_the_first_response():
    found = enquiry()
    staff = seller()
    services.log_exchange(
        found, actor=staff, direction=Direction.INBOUND, channel="phone", subject="More detail"
    )
    found.refresh_from_db()
    assert found.first_responded_at is None
    answer = services.log_exchange(
        found, actor=staff, direction=Direction.OUTBOUND, channel="email", subject="Thanks"
    )
    found.refresh_from_db()
    assert (found.first_response, found.first_responded_at) == (answer, answer.occurred_at)
    assert (
        AuditEvent.objects.filter(action="enquiry.responded", object_id=str(found.pk)).count() == 1
    )


# --------------------------------------------------------------------------------------
# The requirement review
# --------------------------------------------------------------------------------------


def test_the_checklist_is_the_configured_one_for_the_product_line():
    line = ProductLineFactory(code="PCB")
    ReviewQuestionFactory(code="esd", text="ESD handling agreed?", product_line=line)
    ReviewQuestionFactory(
        code="other", text="Only for another line", product_line=ProductLineFactory()
    )
    ReviewQuestion.objects.filter(code="risks").update(active=False)
    opened = services.start_review(enquiry(product_line=line), actor=reviewer())
    assert [a.text for a in opened.answers.all()] == [
        "Are the customer's requirements defined and understood, including delivery?",
        "Do we have the capability and the capacity to meet them?",
        "Are differences from any previous quotation or order resolved?",
        "Are the statutory and regulatory requirements identified?",
        "ESD handling agreed?",
    ]


def test_a_review_is_completed_only_when_every_question_is_answered_and_the_outcome_fits():
    person = reviewer()
    opened = services.start_review(enquiry(), actor=person)
    answers = list(opened.answers.all())
    partial = services.ReviewInput(
        answers={answers[0].pk: (Answer.YES, "")}, outcome=ReviewOutcome.ACCEPT
    )
    with pytest.raises(TransitionError) as caught:
        services.complete_review(opened, actor=person, data=partial)
    assert caught.value.messages == ["answer every question (4 open)"]
    with_no = {a.pk: (Answer.YES, "") for a in answers}
    with_no[answers[1].pk] = (Answer.NO, "Capacity only from May")
    with pytest.raises(TransitionError, match="accept with conditions, clarify or decline"):
        services.complete_review(
            opened, actor=person, data=services.ReviewInput(answers=with_no, outcome="accept")
        )
    with pytest.raises(TransitionError, match="state the conditions"):
        services.complete_review(
            opened,
            actor=person,
            data=services.ReviewInput(answers=with_no, outcome="accept_conditions"),
        )
    done = services.complete_review(
        opened,
        actor=person,
        data=services.ReviewInput(
            answers=with_no, outcome="accept_conditions", conditions="Delivery from May"
        ),
    )
    assert (done.status, done.reviewer, done.completed_at is not None) == (
        ReviewStatus.COMPLETED,
        person,
        True,
    )
    assert done.enquiry.status == EnquiryStatus.REVIEWED
    with pytest.raises(ValidationError, match="is completed"):
        services.save_review(done, actor=person, data=services.ReviewInput(outcome="decline"))


def test_a_declined_review_closes_the_enquiry():
    found = enquiry()
    done = review(found, ReviewOutcome.DECLINE, decline_reason="Not certified for PN100")
    found.refresh_from_db()
    assert (found.status, done.decline_reason) == (
        EnquiryStatus.DECLINED,
        "Not certified for PN100",
    )
    with pytest.raises(ValidationError, match="no completed requirement review that accepts it"):
        offer(found)


def test_a_clarification_is_a_logged_communication_before_the_review_resumes():
    found = enquiry()
    review(found, ReviewOutcome.CLARIFY, clarification="Which surface finish?")
    found.refresh_from_db()
    assert found.status == EnquiryStatus.CLARIFICATION
    with pytest.raises(TransitionError) as caught:
        services.start_review(found, actor=reviewer())
    assert caught.value.messages == ["log the customer's clarification first"]
    services.log_exchange(
        found, actor=seller(), direction=Direction.OUTBOUND, channel="email", subject="Question"
    )
    with pytest.raises(TransitionError):
        services.start_review(found, actor=reviewer())
    services.log_exchange(
        found, actor=seller(), direction=Direction.INBOUND, channel="phone", subject="Ra 0.8"
    )
    second = services.start_review(found, actor=reviewer())
    assert (second.round, found.status) == (2, EnquiryStatus.IN_REVIEW)


# --------------------------------------------------------------------------------------
# Offers and acceptance
# --------------------------------------------------------------------------------------


def test_an_offer_records_the_document_versions_it_used_as_distributions():
    found = enquiry()
    review(found)
    terms = approved(DocumentFactory(kind=DocumentKind.CONTRACT_TERMS), "2026")
    template = approved(DocumentFactory(kind=DocumentKind.QUOTE_TEMPLATE), "3")
    issued = offer(found, versions=[terms, template])
    copies = Distribution.objects.filter(via_id=str(issued.pk)).order_by("pk")
    assert [(d.version, d.occasion, d.reference, d.customer) for d in copies] == [
        (terms, Occasion.QUOTE, issued.number, found.customer),
        (template, Occasion.QUOTE, issued.number, found.customer),
    ]
    found.refresh_from_db()
    assert (issued.number[:4], issued.review, found.status) == (
        "OFR-",
        found.passed_review(),
        EnquiryStatus.QUOTED,
    )


def test_an_offer_never_sends_a_draft_document():
    from tests.documents.factories import DocumentVersionFactory

    found = enquiry()
    review(found)
    draft = DocumentVersionFactory()
    with pytest.raises(ValidationError, match="only an approved version"):
        offer(found, versions=[draft])
    assert not found.offers.exists()


def test_an_order_cannot_be_accepted_without_a_completed_review():
    found = enquiry()
    order = pending_order(found, with_offer=False)
    assert order.status == OrderStatus.PENDING
    with pytest.raises(TransitionError) as caught:
        services.accept_order(order, actor=seller())
    assert caught.value.messages == [
        f"{found.number} has no completed requirement review that accepts it"
    ]
    opened = services.start_review(found, actor=reviewer())
    with pytest.raises(TransitionError):
        services.accept_order(order, actor=seller())
    services.complete_review(
        opened,
        actor=reviewer(),
        data=services.ReviewInput(
            answers={a.pk: (Answer.YES, "") for a in opened.answers.all()}, outcome="accept"
        ),
    )
    accepted = services.accept_order(order, actor=seller())
    assert (accepted.status, accepted.version, accepted.accepted_by.username) == (
        OrderStatus.ACCEPTED,
        1,
        "seller",
    )
    assert AuditEvent.objects.filter(action="order.accept", object_id=str(order.pk)).count() == 1


def test_an_order_cannot_be_accepted_without_the_customers_acceptance_on_file():
    found = enquiry()
    review(found)
    order = pending_order(found, file=False)
    with pytest.raises(TransitionError, match="attach the customer's acceptance"):
        services.accept_order(order, actor=seller())
    services.accept_order(order, actor=seller(), file=upload("PO-77.pdf"))
    order.refresh_from_db()
    assert (order.status, order.acceptance_file.name) == (OrderStatus.ACCEPTED, "PO-77.pdf")


def test_accepting_makes_version_one_and_moves_the_offer_and_the_enquiry():
    order = accepted_order()
    version = order.versions.get()
    assert (version.number, version.scope, version.changed) == (1, order.scope, {})
    assert order.offer.status == OfferStatus.ACCEPTED
    assert order.enquiry.status == EnquiryStatus.ORDERED


def test_accepted_terms_that_differ_from_the_offer_are_reviewed_first():
    found = enquiry()
    review(found)
    issued = offer(found, price=Decimal("1200.00"))
    order = services.record_acceptance(
        found,
        actor=seller(),
        offer=issued,
        record=services.AcceptanceRecord(
            kind="purchase_order", price=Decimal("1100.00"), file=upload()
        ),
    )
    assert order.differs_from_offer
    assert order.differences == "price: offered 1200.00, accepted 1100.00"
    assert order.price == Decimal("1100.00")
    with pytest.raises(TransitionError, match="review the differences first"):
        services.accept_order(order, actor=seller())
    difference = services.review_differences(order, actor=reviewer())
    services.complete_review(
        difference,
        actor=reviewer(),
        data=services.ReviewInput(
            answers={a.pk: (Answer.YES, "") for a in difference.answers.all()},
            outcome="accept_conditions",
            conditions="Lower price for the full call-off",
        ),
    )
    # Stating the differences again makes the earlier review stale.
    services.note_differences(order, actor=seller(), differences="Their payment terms too")
    with pytest.raises(TransitionError, match="review the differences first"):
        services.accept_order(order, actor=seller())
    again = services.review_differences(order, actor=reviewer())
    services.complete_review(
        again,
        actor=reviewer(),
        data=services.ReviewInput(
            answers={a.pk: (Answer.YES, "") for a in again.answers.all()}, outcome="accept"
        ),
    )
    assert services.accept_order(order, actor=seller()).status == OrderStatus.ACCEPTED
    assert again.round == 2


def test_accepting_an_order_needs_the_change_permission(auditor):
    found = enquiry()
    review(found)
    order = pending_order(found)
    with pytest.raises(PermissionDenied):
        services.accept_order(order, actor=auditor)


# --------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------


def test_a_change_is_not_effective_until_the_customer_confirms_it():
    order = accepted_order()
    before = order.delivery_date
    change = change_awaiting(order)
    order.refresh_from_db()
    assert (change.status, order.delivery_date, order.version) == (
        ChangeStatus.AWAITING,
        before,
        1,
    )
    with pytest.raises(TransitionError, match="attach the customer's confirmation"):
        services.confirm_change(change, actor=seller(), file=None)
    order.refresh_from_db()
    assert (order.delivery_date, order.version) == (before, 1)
    version = services.confirm_change(change, actor=seller(), file=upload("confirm.pdf"))
    order.refresh_from_db()
    assert order.delivery_date == before + dt.timedelta(days=7)
    assert (order.version, version.number, version.change) == (2, 2, change)
    assert version.changed == {
        "delivery_date": [before.isoformat(), (before + dt.timedelta(days=7)).isoformat()]
    }
    assert AuditEvent.objects.filter(action="order.changed", object_id=str(order.pk)).count() == 1


def test_a_change_moves_only_through_impact_review_and_our_communication():
    order = accepted_order()
    change = services.request_change(
        order,
        actor=seller(),
        proposal=services.ChangeProposal(
            origin=ChangeOrigin.US,
            description="Zinc-nickel instead of zinc",
            aspects=[ChangeAspect.REQUIREMENTS],
            new_requirements="Zinc-nickel plating",
        ),
    )
    with pytest.raises(ValidationError, match="is requested"):
        services.communicate_change(change, actor=seller(), channel="email", subject="x")
    services.review_impact(change, actor=reviewer(), feasible=False, impact="No plating line")
    assert change.status == ChangeStatus.REQUESTED
    with pytest.raises(TransitionError, match="not feasible: reject it"):
        apply_transition(change, "assess", actor=reviewer())
    services.reject_change(change, actor=seller(), reason="Not feasible; customer told.")
    order.refresh_from_db()
    assert (change.status, order.requirements, order.version) == (
        ChangeStatus.REJECTED,
        "Bore tolerance ±0.02 mm.",
        1,
    )


def test_a_change_must_say_what_changes_and_to_what():
    order = accepted_order()
    with pytest.raises(ValidationError) as caught:
        services.request_change(
            order,
            actor=seller(),
            proposal=services.ChangeProposal(
                origin="customer",
                description="Later",
                aspects=[ChangeAspect.DATES, ChangeAspect.SCOPE],
                new_scope=order.scope,
            ),
        )
    assert caught.value.message_dict == {
        "new_delivery_date": ["Give the new delivery date."],
        "new_scope": ["The scope is this already."],
    }
    with pytest.raises(ValidationError, match="only an accepted order"):
        services.request_change(
            pending_order(with_offer=False),
            actor=seller(),
            proposal=services.ChangeProposal(
                origin="customer", description="x", aspects=["scope"], new_scope="More"
            ),
        )


def test_a_change_is_due_for_confirmation_in_working_days():
    order = accepted_order()
    change = services.request_change(
        order,
        actor=seller(),
        proposal=services.ChangeProposal(
            origin="customer",
            description="More",
            aspects=["price"],
            new_price=Decimal("1500"),
            requested_at=berlin(2026, 1, 2, 10, 0),
        ),
    )
    # Friday 2 January: five working days later is Friday 9 January, 10:00 in Berlin.
    assert timezone.localtime(change.confirmation_due) == berlin(2026, 1, 9, 10, 0)


# --------------------------------------------------------------------------------------
# Escalations and notices
# --------------------------------------------------------------------------------------


def escalation(severity: str = Severity.HIGH, **values):
    values.setdefault("raised_at", timezone.now())
    return services.raise_escalation(
        actor=values.pop("actor", None) or seller(),
        customer=values.pop("customer", None) or CustomerFactory(),
        event_type=values.pop("event_type", EventType.DELAY),
        severity=severity,
        title="Delivery slips",
        description="Furnace breakdown at the heat treater.",
        **values,
    )


def with_template(
    event_type: str = EventType.DELAY, severity: str = Severity.HIGH
) -> EscalationRule:
    rule = EscalationRule.objects.get(event_type=event_type, severity=severity)
    rule.notice_template = notice_template()
    rule.save()
    return rule


def test_raising_an_event_copies_the_matrix_and_computes_the_deadline_in_working_days():
    persona(Role.QUALITY_MANAGER, "boss")
    raised = escalation(Severity.HIGH, raised_at=berlin(2026, 7, 3, 17, 0))
    # High: one working day; Friday 17:00 in Berlin -> Monday 17:00.
    assert timezone.localtime(raised.notice_due) == berlin(2026, 7, 6, 17, 0)
    assert (raised.approver_role, raised.escalate_to_role, raised.records_required) == (
        "quality_manager",
        "quality_manager",
        ["What happened", "Customer impact", "Containment", "Cause"],
    )
    assert raised.escalated_to == ["boss"]
    assert [m.to for m in outbox.outbox] == [["boss@example.com"]]
    assert outbox.outbox[0].subject == f"Escalated: {raised.number} Delivery slips"


def test_a_critical_event_is_due_in_clock_hours_weekend_or_not():
    raised = escalation(Severity.CRITICAL, raised_at=berlin(2026, 7, 4, 22, 0))
    assert timezone.localtime(raised.notice_due) == berlin(2026, 7, 5, 2, 0)


def test_a_notice_is_drafted_from_the_approved_template_only():
    raised = escalation()
    ContactFactory(customer=raised.customer, email="ops@cust.example", is_primary=True)
    with pytest.raises(ValidationError, match="names no approved notice template"):
        services.draft_notice(raised, actor=seller())
    with_template()
    raised.refresh_from_db()
    drafted = services.draft_notice(raised, actor=seller())
    assert drafted.status == NoticeStatus.DRAFT
    assert (drafted.contact.email, drafted.template_version.document.kind) == (
        "ops@cust.example",
        DocumentKind.NOTICE_TEMPLATE,
    )
    assert drafted.subject == "Delay: Delivery slips"
    assert drafted.body == (
        f"Dear {drafted.contact.name}, Delay at {raised.customer.name}: Delivery slips. "
        f"Furnace breakdown at the heat treater. Ref {raised.number}. "
        f"{seller().get_full_name()}"
    )


def notice_for(severity: str = Severity.HIGH, **values):
    with_template(severity=severity)
    raised = escalation(severity, **values)
    ContactFactory(customer=raised.customer, email="ops@cust.example")
    return services.draft_notice(raised, actor=seller())


def test_a_notice_cannot_be_sent_unapproved():
    drafted = notice_for()
    with pytest.raises(TransitionError, match="the record is Draft"):
        services.send_notice(drafted, actor=seller())
    drafted.refresh_from_db()
    assert (drafted.status, drafted.communication) == (NoticeStatus.DRAFT, None)
    assert not [m for m in outbox.outbox if m.to == ["ops@cust.example"]]


def test_only_the_role_the_matrix_names_approves_a_notice(administrator):
    drafted = notice_for(Severity.HIGH)
    for refused in (seller(), reviewer(), administrator):
        with pytest.raises(PermissionDenied, match="Only a quality manager may approve"):
            services.approve_notice(drafted, actor=refused)
    boss = persona(Role.QUALITY_MANAGER, "boss")
    approved_notice = services.approve_notice(drafted, actor=boss)
    assert (approved_notice.status, approved_notice.approved_by) == (NoticeStatus.APPROVED, boss)


def test_sending_an_approved_notice_mails_and_logs_it_and_meets_the_deadline():
    drafted = notice_for(Severity.MEDIUM)
    staff = seller()
    services.approve_notice(drafted, actor=staff)  # medium: customer-facing staff approve
    outbox.outbox.clear()
    services.send_notice(drafted, actor=staff)
    drafted.refresh_from_db()
    escalation_ = drafted.escalation
    escalation_.refresh_from_db()
    assert [(m.to, m.subject) for m in outbox.outbox] == [(["ops@cust.example"], drafted.subject)]
    logged = drafted.communication
    assert (logged.direction, logged.channel, logged.is_mail) == ("outbound", "email", True)
    assert set(logged.links.values_list("label", flat=True)) == {
        f"Notice {drafted.number}",
        f"Escalation {escalation_.number}",
    }
    assert (escalation_.status, escalation_.customer_told_at) == (
        EscalationStatus.INFORMED,
        logged.occurred_at,
    )
    assert escalation_.deadline_met and not escalation_.breached


def test_an_escalation_closes_only_with_its_records_and_the_notice_sent():
    drafted = notice_for(Severity.MEDIUM)
    raised = drafted.escalation
    with pytest.raises(TransitionError) as caught:
        services.close_escalation(raised, actor=seller())
    assert caught.value.messages == [
        "record: What happened, Customer impact, Containment",
        "send the customer notice first",
    ]
    for item in raised.records_required:
        services.record_escalation_item(raised, actor=seller(), item=item, text="Noted.")
    services.approve_notice(drafted, actor=seller())
    services.send_notice(drafted, actor=seller())
    raised.refresh_from_db()
    assert services.close_escalation(raised, actor=seller()).status == EscalationStatus.CLOSED


# --------------------------------------------------------------------------------------
# The tick: each deadline breach flagged exactly once
# --------------------------------------------------------------------------------------


def test_the_tick_flags_an_escalation_breach_exactly_once():
    persona(Role.QUALITY_MANAGER, "boss")
    raised = escalation(Severity.HIGH, raised_at=timezone.now() - dt.timedelta(days=5))
    assert raised.breached
    outbox.outbox.clear()
    assert escalation_deadlines(timezone.now()) == (
        "1 escalations newly past their customer-notice deadline flagged and escalated"
    )
    call_command("tick", "--only", "escalation deadlines", stdout=io.StringIO())
    call_command("tick", "--only", "escalation deadlines", stdout=io.StringIO())
    flags = AuditEvent.objects.filter(action="escalation.breached", object_id=str(raised.pk))
    assert flags.count() == 1
    assert flags.get().changes["deadline"] == raised.notice_due.astimezone(dt.UTC).isoformat()
    assert [m.subject for m in outbox.outbox] == [
        f"Deadline missed: {raised.number} Delivery slips"
    ]


def test_a_late_notice_is_a_breach_flagged_once_even_without_the_tick():
    drafted = notice_for(Severity.HIGH, raised_at=timezone.now() - dt.timedelta(days=5))
    boss = persona(Role.QUALITY_MANAGER, "boss")
    services.approve_notice(drafted, actor=boss)
    services.send_notice(drafted, actor=boss)
    raised = drafted.escalation
    raised.refresh_from_db()
    assert raised.breached and raised.customer_told_at is not None
    escalation_deadlines(timezone.now())
    assert (
        AuditEvent.objects.filter(action="escalation.breached", object_id=str(raised.pk)).count()
        == 1
    )
    with pytest.raises(TransitionError, match="say why the customer was told late"):
        services.close_escalation(raised, actor=boss)


def test_a_deadline_not_yet_passed_is_not_flagged():
    escalation(Severity.LOW)
    assert escalation_deadlines(timezone.now()).startswith("0 escalations")


def test_the_tick_flags_a_late_first_response_once_and_tells_the_handler():
    staff = seller()
    late = enquiry(actor=staff, received_at=timezone.now() - dt.timedelta(days=6))
    enquiry(actor=staff)  # within its target
    answered = enquiry(actor=staff, received_at=timezone.now() - dt.timedelta(days=6))
    services.log_exchange(
        answered, actor=staff, direction="outbound", channel="email", subject="Hi"
    )
    outbox.outbox.clear()
    assert first_responses(timezone.now()).startswith("1 enquiries")
    assert first_responses(timezone.now()).startswith("0 enquiries")
    events = AuditEvent.objects.filter(action="enquiry.overdue")
    assert [e.object_id for e in events] == [str(late.pk)]
    assert events.get().changes["told"] == ["seller"]
    assert [m.to for m in outbox.outbox] == [["seller@example.com"]]


# --------------------------------------------------------------------------------------
# What the auditor asks
# --------------------------------------------------------------------------------------


def test_readiness_finds_an_accepted_order_without_a_completed_review():
    order = accepted_order()
    assert auditor.orders_reviewed(timezone.now())[0] == 0
    # An order accepted before the rule existed (imported, say): the check catches it.
    stray = pending_order(with_offer=False)
    Order.objects.filter(pk=stray.pk).update(
        status=OrderStatus.ACCEPTED, accepted_at=timezone.now()
    )
    count, message, records = auditor.orders_reviewed(timezone.now())
    assert (count, message) == (1, "1 of 2 accepted orders lack a completed requirement review.")
    assert records == [(stray.number, stray.get_absolute_url())]
    assert order.number not in [r[0] for r in records]


def test_readiness_finds_changes_past_their_confirmation_target():
    change = change_awaiting()
    assert auditor.changes_on_time(timezone.now())[0] == 0
    later = change.confirmation_due + dt.timedelta(minutes=1)
    assert auditor.changes_on_time(later)[:2] == (
        1,
        "1 order changes are past their confirmation target without the customer's confirmation.",
    )


def test_readiness_finds_a_breach_without_a_record_of_why():
    raised = escalation(Severity.HIGH, raised_at=timezone.now() - dt.timedelta(days=5))
    assert auditor.breaches_recorded(timezone.now())[0] == 1
    services.explain_breach(raised, actor=seller(), explanation="Approver away; deputies named.")
    assert auditor.breaches_recorded(timezone.now())[0] == 0


def test_the_evidence_pack_has_the_orders_and_the_contingency_parts():
    order = accepted_order()
    escalation(Severity.LOW, customer=order.customer, order=order)
    today = timezone.localdate()
    parts = auditor.evidence_parts(today - dt.timedelta(days=7), today)
    assert [p.clause for p in parts] == ["8.2.1 b", "8.2.1 e"]
    orders_csv = parts[0].files["registers/orders.csv"].decode("utf-8-sig")
    assert order.number in orders_csv and order.acceptance_file.sha256 in orders_csv
    assert parts[0].files[f"orders/{order.number}/acceptance_po.pdf"] == b"%PDF-1.4 purchase order"
    assert "registers/escalation_matrix.csv" in parts[1].files
    assert "Delivery slips" in parts[1].files["registers/escalations.csv"].decode("utf-8-sig")


def test_the_configuration_is_seeded_once():
    assert EscalationRule.objects.count() == len(EventType.values) * len(Severity.values)
    assert ReviewQuestion.objects.count() == 5
    services.seed_configuration()
    assert EscalationRule.objects.count() == 28


def test_every_change_leaves_its_audit_event():
    order = accepted_order()
    actions = set(
        AuditEvent.objects.filter(object_type="orders.order", object_id=str(order.pk)).values_list(
            "action", flat=True
        )
    )
    assert {"order.created", "order.accept"} <= actions
    assert AuditEvent.objects.filter(action="requirementreview.complete").count() == 1
    assert AuditEvent.objects.filter(action="offer.accepted").count() == 1
    assert AuditEvent.objects.filter(action="enquiry.order").count() == 1
