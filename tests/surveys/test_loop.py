"""Closing the loop: a resolved complaint brings the outcome message from the approved
template (logged in the communication log) and, days later, the follow-up survey; the
complaint's loop shows that the customer was informed and what they answered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from tests.conftest import client_for
from tests.documents.factories import DocumentFactory, DocumentVersionFactory, approved
from tests.factories import ContactFactory, CustomerFactory
from tests.feedback.factories import FeedbackItemFactory, PerceptionSourceFactory
from tests.surveys.factories import answers_of, survey

from harken.communications.models import Communication, CommunicationLink
from harken.core.models import AuditEvent
from harken.documents.choices import DocumentKind
from harken.feedback import services as feedback
from harken.feedback.choices import ItemKind, SourceKind
from harken.surveys import loop, services, ticks
from harken.surveys.choices import FollowUpStatus, InvitationStatus, OutcomeStatus
from harken.surveys.models import Invitation, LoopCase

pytestmark = pytest.mark.django_db

TEMPLATE = "Dear $contact,\n\nabout $complaint: $resolution\n\n$company"


@pytest.fixture
def setup(quality_manager):
    inbox = PerceptionSourceFactory(
        name="Complaints inbox",
        kind=SourceKind.COMPLAINTS_INBOX,
        structured=False,
        default_kind="complaint",
    )
    document = DocumentFactory(title="Complaint outcome message", kind=DocumentKind.NOTICE_TEMPLATE)
    approved(document, "1.0", body=TEMPLATE)
    follow_up = survey(kind="csat", title="After your complaint", trigger="after_resolution")
    rule = loop.save_rule(
        actor=quality_manager,
        source=inbox,
        outcome_template=document,
        follow_up_survey=follow_up,
        follow_up_delay_days=14,
    )
    customer = CustomerFactory(name="Kestrel Rail plc")
    contact = ContactFactory(customer=customer, name="Tom Walsh", email="tom@kestrel.example")
    complaint, _ = feedback.record_feedback(
        feedback.Intake(
            source=inbox,
            kind=ItemKind.COMPLAINT,
            title="Flange scratched",
            text="The flange arrived with deep scratches.",
            customer=customer,
            contact=contact,
        )
    )
    return {
        "rule": rule,
        "complaint": complaint,
        "contact": contact,
        "survey": follow_up,
        "document": document,
    }


def test_a_resolved_complaint_gets_the_outcome_message_and_later_the_follow_up(
    setup, quality_manager
):
    complaint = setup["complaint"]
    feedback.acknowledge(complaint, actor=quality_manager)
    assert "0 resolved complaints entered the loop" in ticks.closing_the_loop(timezone.now())
    feedback.resolve(
        complaint,
        actor=quality_manager,
        resolution="We replaced the flange and changed the packaging.",
    )

    summary = ticks.closing_the_loop(timezone.now())
    assert summary.startswith(
        "1 resolved complaints entered the loop, 1 customers told the outcome"
    )
    case = LoopCase.objects.get()
    assert (case.outcome_status, case.customer_informed) == (OutcomeStatus.SENT, True)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["tom@kestrel.example"]
    assert (
        message.subject
        == f"Test Company: the outcome of your complaint {complaint.complaint_number}"
    )
    assert message.body == (
        f"Dear Tom Walsh,\n\nabout {complaint.complaint_number} Flange scratched: We replaced the "
        "flange and changed the packaging.\n\nTest Company"
    )
    communication = Communication.objects.get()
    assert case.communication == communication
    assert (communication.direction, communication.channel, communication.phase) == (
        "outbound",
        "email",
        "feedback",
    )
    assert list(communication.contacts.all()) == [setup["contact"]]
    assert CommunicationLink.objects.get(communication=communication).target == complaint
    assert communication.attachments.get().name.endswith(".eml")

    # The follow-up waits for its day, then is invited and sent by the same tick.
    assert case.follow_up_status == FollowUpStatus.WAITING
    ticks.closing_the_loop(timezone.now() + dt.timedelta(days=13))
    assert Invitation.objects.count() == 0
    later = timezone.now() + dt.timedelta(days=14, minutes=1)
    assert "1 follow-up surveys queued" in ticks.closing_the_loop(later)
    ticks.send_invitations(later)
    case.refresh_from_db()
    invitation = case.invitation
    assert (case.follow_up_status, invitation.status) == (
        FollowUpStatus.INVITED,
        InvitationStatus.SENT,
    )
    assert invitation.trigger_item == complaint
    assert invitation.trigger_ref == complaint.complaint_number
    assert len(mail.outbox) == 2

    # The answer closes the loop: shown on the case with the score.
    token = mail.outbox[1].body.split("/surveys/r/")[1].split("/")[0]
    client = Client()
    answers = answers_of(setup["survey"], score=5, why="Solved for good.")
    assert client.post(f"/surveys/r/{token}/", {**answers, "action": "submit"}).status_code == 303
    case.refresh_from_db()
    assert case.follow_up_response.score == 5.0
    services.record_pending()
    item = LoopCase.objects.get().follow_up_response.feedback_item
    assert item.raw["triggered_by"] == complaint.complaint_number
    page = client_for(quality_manager).get(
        f"/surveys/loop/complaint/?complaint={complaint.pk}", follow=True
    )
    content = page.content.decode()
    assert "Customer informed" in content
    assert "score 5" in content
    assert "Solved for good." in content


def test_nothing_is_sent_without_an_approved_template(setup, quality_manager):
    document = DocumentFactory(title="Draft outcome", kind=DocumentKind.NOTICE_TEMPLATE)
    DocumentVersionFactory(document=document, body=TEMPLATE)
    rule = setup["rule"]
    rule.outcome_template = document
    rule.save()
    feedback.acknowledge(setup["complaint"], actor=quality_manager)
    feedback.resolve(setup["complaint"], actor=quality_manager, resolution="Replaced.")
    ticks.closing_the_loop(timezone.now())
    case = LoopCase.objects.get()
    assert case.outcome_status == OutcomeStatus.PENDING
    assert case.note == "No approved version of the outcome template yet: approve it."
    assert mail.outbox == [] and Communication.objects.count() == 0
    # Approving the template lets the next tick send it.
    version = document.versions.get()
    from harken.documents import services as documents

    documents.submit(version, actor=quality_manager)
    documents.record_review(version, actor=quality_manager)
    documents.approve(version, actor=quality_manager)
    ticks.closing_the_loop(timezone.now())
    case.refresh_from_db()
    assert case.outcome_status == OutcomeStatus.SENT


def test_a_failing_mail_server_leaves_the_outcome_pending_and_logs_nothing(
    setup, quality_manager, smtp_settings
):
    feedback.acknowledge(setup["complaint"], actor=quality_manager)
    feedback.resolve(setup["complaint"], actor=quality_manager, resolution="Replaced.")
    ticks.closing_the_loop(timezone.now())
    case = LoopCase.objects.get()
    assert case.outcome_status == OutcomeStatus.PENDING
    assert case.outcome_attempts == 1
    assert case.note.startswith("Sending failed (ConnectionRefusedError")
    assert Communication.objects.count() == 0


def test_complaints_resolved_before_the_rule_or_of_other_sources_are_left_alone(
    setup, quality_manager
):
    old = FeedbackItemFactory(
        source=setup["rule"].source,
        kind=ItemKind.COMPLAINT,
        resolved_at=timezone.now() - dt.timedelta(days=30),
    )
    other = FeedbackItemFactory(kind=ItemKind.COMPLAINT, resolved_at=timezone.now())
    ticks.closing_the_loop(timezone.now())
    assert not LoopCase.objects.filter(complaint__in=[old, other]).exists()
    content = (
        client_for(quality_manager)
        .get(f"/surveys/loop/complaint/?complaint={other.pk}")
        .content.decode()
    )
    assert "has no loop rule" in content


def test_an_opted_out_contact_gets_the_outcome_but_no_follow_up(setup, quality_manager):
    services.opt_out("tom@kestrel.example")
    feedback.acknowledge(setup["complaint"], actor=quality_manager)
    feedback.resolve(setup["complaint"], actor=quality_manager, resolution="Replaced.")
    ticks.closing_the_loop(timezone.now())
    ticks.closing_the_loop(timezone.now() + dt.timedelta(days=15))
    case = LoopCase.objects.get()
    assert case.outcome_status == OutcomeStatus.SENT
    assert (case.follow_up_status, case.note) == (
        FollowUpStatus.SKIPPED,
        "tom@kestrel.example opted out of surveys.",
    )
    assert Invitation.objects.count() == 0
    events = AuditEvent.objects.filter(object_type="surveys.loopcase").values_list(
        "action", flat=True
    )
    assert set(events) >= {
        "loopcase.created",
        "loopcase.outcome_sent",
        "loopcase.follow_up_skipped",
    }


def test_the_complaint_page_offers_the_loop_and_staff_may_look_but_not_send(
    setup, staff, auditor, outsider
):
    complaint = setup["complaint"]
    content = client_for(staff).get(f"/feedback/items/{complaint.pk}/").content.decode()
    assert f"/surveys/loop/complaint/?complaint={complaint.pk}" in content
    assert (
        client_for(staff).get(f"/surveys/loop/complaint/?complaint={complaint.pk}").status_code
        == 200
    )
    assert (
        client_for(outsider).get(f"/surveys/loop/complaint/?complaint={complaint.pk}").status_code
        == 403
    )
    case = loop.open_case(complaint, setup["rule"]) if complaint.resolved_at else None
    assert case is None
    assert client_for(auditor).post("/surveys/loop/rules/add/", {}).status_code == 403


def test_a_rule_needs_an_outcome_template_or_a_follow_up(quality_manager):
    source = PerceptionSourceFactory(kind=SourceKind.COMPLAINTS_INBOX, structured=False)
    with pytest.raises(Exception) as caught:
        loop.save_rule(
            actor=quality_manager, source=source, send_outcome=True, outcome_template=None
        )
    assert "outcome_template" in caught.value.message_dict
    with pytest.raises(Exception) as caught:
        loop.save_rule(actor=quality_manager, source=source, send_outcome=False)
    assert "follow_up_survey" in caught.value.message_dict


def test_a_new_outcome_template_is_a_draft_controlled_document(quality_manager):
    document = loop.create_outcome_template(actor=quality_manager)
    version = document.versions.get()
    assert (document.kind, version.status, version.label) == (
        DocumentKind.NOTICE_TEMPLATE,
        "draft",
        "1.0",
    )
    assert "$resolution" in version.body


def test_the_complaint_panel_tells_whether_the_customer_was_informed(
    setup, quality_manager, staff, owner
):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from harken.surveys.panels import complaint_loop_panel

    complaint = setup["complaint"]
    feedback.acknowledge(complaint, actor=quality_manager)
    feedback.resolve(complaint, actor=quality_manager, resolution="Replaced.")
    ticks.closing_the_loop(timezone.now())
    request = RequestFactory().get("/")
    request.user = staff
    panel = complaint_loop_panel(request, complaint)
    html = render_to_string(panel["template"], {"panel": panel})
    assert "Customer informed" in html
    assert "Follow-up: Waiting for its day" in html
    request.user = owner
    assert complaint_loop_panel(request, complaint) is not None
    other = FeedbackItemFactory(kind=ItemKind.SUGGESTION)
    assert complaint_loop_panel(request, other) is None


def test_the_action_page_shows_the_customer_side_of_its_complaints(
    setup, quality_manager, owner, staff
):
    from harken.actions import services as actions

    complaint = setup["complaint"]
    still_open, _ = feedback.record_feedback(
        feedback.Intake(
            source=setup["rule"].source,
            kind=ItemKind.COMPLAINT,
            title="Second scratch",
            text="Another flange, the same scratches.",
        )
    )
    praise = FeedbackItemFactory(kind=ItemKind.COMPLIMENT)
    action = actions.open_action(
        actor=quality_manager,
        kind="corrective",
        title="Packaging of flanges",
        problem_statement="Flanges arrive scratched.",
        owner=owner,
        due_date=timezone.localdate() + dt.timedelta(days=30),
        items=[complaint, still_open, praise],
    )
    feedback.acknowledge(complaint, actor=quality_manager)
    feedback.resolve(complaint, actor=quality_manager, resolution="New crates.")
    later = timezone.now() + dt.timedelta(days=14, minutes=1)
    ticks.closing_the_loop(timezone.now())
    ticks.closing_the_loop(later)
    ticks.send_invitations(later)
    token = mail.outbox[1].body.split("/surveys/r/")[1].split("/")[0]
    answers = answers_of(setup["survey"], score=4, why="Better now.")
    Client().post(f"/surveys/r/{token}/", {**answers, "action": "submit"})

    page = client_for(owner).get(f"/actions/{action.pk}/").content.decode()
    assert 'data-testid="action-loop"' in page
    assert (
        "2 complaints behind this action: 1 in the loop, 1 customer told the outcome, "
        "1 follow-up survey answered (mean score 4.0)." in page
    )
    assert "Complaint outcome message" in page  # the approved template it used
    assert "score 4, “Better now.”" in page
    assert "Not in the loop (not resolved yet)" in page
    assert praise.number not in page.split('data-testid="action-loop"')[1]
    assert LoopCase.objects.get().communication.get_absolute_url() in page

    # Without a complaint behind it, the action has no customer side to show.
    other = actions.open_action(
        actor=quality_manager,
        kind="improvement",
        title="Nicer invoices",
        problem_statement="Suggested.",
        owner=owner,
        due_date=timezone.localdate() + dt.timedelta(days=30),
        items=[praise],
    )
    assert (
        'data-testid="action-loop"'
        not in client_for(owner).get(f"/actions/{other.pk}/").content.decode()
    )
