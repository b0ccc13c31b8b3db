"""Invitations over a real SMTP server: the mail arrives, its link opens the survey, the
answer lands as a feedback item; a server that is down leaves them queued for the tick."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from tests.factories import ContactFactory, CustomerFactory
from tests.surveys.factories import answers_of, survey

from harken.core.models import AuditEvent
from harken.feedback.choices import ItemKind
from harken.feedback.models import FeedbackItem
from harken.surveys import services, ticks
from harken.surveys.choices import InvitationStatus, OptOutVia
from harken.surveys.models import Invitation, OptOut, SurveyResponse

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https://harken\.test(/surveys/r/[A-Za-z0-9_-]+/)")
UNSUBSCRIBE = re.compile(r"https://harken\.test(/surveys/u/[A-Za-z0-9_-]+/)")


# A real commit, so that the answer is handed on as it is in production (on commit).
@pytest.mark.django_db(transaction=True)
def test_invitation_arrives_its_link_opens_the_survey_and_the_answer_becomes_feedback(
    smtp_server, quality_manager
):
    srv = survey(title="Relationship NPS 2026 Q1", actor=quality_manager)
    customer = CustomerFactory(name="Baltic Pumps AB")
    contact = ContactFactory(customer=customer, name="Freya Berg", email="freya@baltic.example")

    plan = services.invite(srv, [contact], actor=quality_manager)
    assert [i.status for i in plan.created] == [InvitationStatus.QUEUED]
    report = services.send_due()
    assert (report.sent, report.failed) == (1, 0)

    assert len(smtp_server.box.messages) == 1
    mail_from, rcpt = smtp_server.box.envelopes[0]
    assert (mail_from, rcpt) == ("surveys@harken-company.example", ["freya@baltic.example"])
    message = smtp_server.box.messages[0]
    assert message["To"] == "freya@baltic.example"
    text = smtp_server.box.text_of()
    assert text.startswith("Dear Freya Berg,")
    path = LINK.search(text).group(1)
    assert path in smtp_server.box.html_of()
    assert (
        message["List-Unsubscribe"].strip()
        == f"<https://harken.test{UNSUBSCRIBE.search(text).group(1)}>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    invitation = Invitation.objects.get()
    assert invitation.status == InvitationStatus.SENT
    token = path.rstrip("/").rsplit("/", 1)[1]
    # Only the hash is stored: the token itself is nowhere in the database.
    assert invitation.token_hash != token and len(invitation.token_hash) == 64
    assert token not in str(list(AuditEvent.objects.values_list("changes", flat=True)))

    browser = Client(enforce_csrf_checks=True)
    page = browser.get(path)
    assert page.status_code == 200
    assert (
        "How likely is it that you would recommend Test Company to a colleague?"
        in page.content.decode()
    )
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.OPENED
    csrf = browser.cookies["csrftoken"].value
    data = answers_of(srv, score=4, why="Two late deliveries this quarter.")
    response = browser.post(path, {**data, "csrfmiddlewaretoken": csrf, "action": "submit"})
    assert response.status_code == 303
    assert (
        browser.get(
            response["Location"]
            if response["Location"].startswith("/")
            else path + response["Location"]
        ).status_code
        == 200
    )

    item = FeedbackItem.objects.get()
    assert item.kind == ItemKind.SURVEY_RESPONSE
    assert (item.score, item.scale) == (4.0, "nps")
    assert item.text == "Two late deliveries this quarter."
    assert item.contact == contact and item.customer == customer
    assert item.source == srv.source
    assert item.sentiment_label == "negative"
    assert item.raw["survey"] == srv.number
    assert item.raw["invitation"] == invitation.pk
    response_row = SurveyResponse.objects.get()
    assert response_row.feedback_item == item
    events = AuditEvent.objects.filter(
        object_type="surveys.surveyresponse", object_id=str(response_row.pk)
    )
    assert (
        events.filter(
            action="surveyresponse.submitted",
            actor_type="token",
            actor_label=f"survey:{srv.number}",
        ).count()
        == 1
    )


def test_a_server_that_is_down_leaves_invitations_queued_and_the_tick_sends_them_later(
    smtp_settings, smtp_port, quality_manager
):
    from tests.surveys.conftest import Mailbox, SmtpServer

    srv = survey(actor=quality_manager)
    contacts = [ContactFactory() for _ in range(3)]
    services.invite(srv, contacts, actor=quality_manager)

    report = services.send_due()
    assert (report.sent, report.failed) == (0, 3)
    assert "cannot connect to the mail server" in Invitation.objects.first().last_error
    assert set(Invitation.objects.values_list("status", "attempts")) == {
        (InvitationStatus.QUEUED, 1)
    }
    assert Invitation.objects.filter(token_hash__isnull=False).count() == 0
    # Not yet due again: a second run right away sends nothing and loses nothing.
    assert str(services.send_due()) == "0 sent, 0 bounced, 0 to retry"

    server = SmtpServer(smtp_port, Mailbox())
    server.start()
    try:
        later = timezone.now() + dt.timedelta(hours=1)
        summary = ticks.send_invitations(later)
    finally:
        server.stop()
    assert summary == "3 sent, 0 bounced, 0 to retry"
    assert len(server.box.messages) == 3
    assert set(Invitation.objects.values_list("status", flat=True)) == {InvitationStatus.SENT}
    assert sorted(rcpt[0] for _, rcpt in server.box.envelopes) == sorted(c.email for c in contacts)


def test_a_refused_address_bounces_and_leaves_the_response_rate(smtp_server, quality_manager):
    srv = survey(actor=quality_manager)
    good, bad = (
        ContactFactory(email="ok@customer.example"),
        ContactFactory(email="gone@customer.example"),
    )
    smtp_server.box.refuse.add("gone@customer.example")
    services.invite(srv, [good, bad], actor=quality_manager)
    report = services.send_due()
    assert (report.sent, report.bounced) == (1, 1)
    bounced = Invitation.objects.get(contact=bad)
    assert bounced.status == InvitationStatus.BOUNCED
    assert "550" in bounced.last_error
    figures = services.survey_figures(srv)
    assert (figures["delivered"], figures["bounced"], figures["response_rate"]) == (1, 1, 0.0)


def test_one_reminder_after_n_days_with_a_link_of_its_own(smtp_server, quality_manager):
    srv = survey(actor=quality_manager, reminder_after_days=3)
    contact = ContactFactory()
    services.invite(srv, [contact], actor=quality_manager)
    services.send_due()
    first = LINK.search(smtp_server.box.text_of()).group(1)

    assert services.send_reminders(now=timezone.now() + dt.timedelta(days=2)).sent == 0
    assert services.send_reminders(now=timezone.now() + dt.timedelta(days=3, minutes=1)).sent == 1
    assert services.send_reminders(now=timezone.now() + dt.timedelta(days=9)).sent == 0
    assert len(smtp_server.box.messages) == 2
    assert smtp_server.box.messages[1]["Subject"] == "Reminder: Test Company survey"
    second = LINK.search(smtp_server.box.text_of()).group(1)
    assert second != first
    # Both links open the same invitation; answering through one uses up both.
    client = Client()
    assert client.get(first).status_code == 200
    assert client.post(second, answers_of(srv, score=9) | {"action": "submit"}).status_code == 303
    assert client.post(first, answers_of(srv, score=3) | {"action": "submit"}).status_code == 409
    assert SurveyResponse.objects.get().score == 9


def test_the_one_click_unsubscribe_of_the_mail_header_is_honoured(smtp_server, quality_manager):
    srv = survey(actor=quality_manager)
    other = survey(title="Second survey", actor=quality_manager)
    contact = ContactFactory(email="Freya.Berg@Baltic.example")
    services.invite(srv, [contact], actor=quality_manager)
    services.send_due()
    header = smtp_server.box.messages[0]["List-Unsubscribe"].strip().strip("<>")
    path = header.replace("https://harken.test", "")
    # The mail provider POSTs without any cookie or CSRF token (RFC 8058).
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    record = OptOut.objects.get()
    assert (record.email, record.via) == ("freya.berg@baltic.example", OptOutVia.ONE_CLICK)
    assert Invitation.objects.get().status == InvitationStatus.OPTED_OUT
    plan = services.invite(other, [contact], actor=quality_manager, respect_throttle=False)
    assert plan.created == []
    assert [s.reason for s in plan.skipped] == ["opted out of surveys"]


def test_harken_survey_send_invites_the_selection_and_sends(smtp_server, quality_manager, capsys):
    srv = survey(actor=quality_manager)
    key = CustomerFactory(segment="key_account")
    ContactFactory(customer=key, email="a@key.example")
    ContactFactory(customer=CustomerFactory(segment="standard"), email="b@std.example")

    call_command("survey", "send", srv.number, "--segment", "key_account", "--dry-run")
    out = capsys.readouterr().out
    assert "invite  a@key.example" in out
    assert "dry run: 1 would be invited" in out
    assert Invitation.objects.count() == 0 and not smtp_server.box.messages

    call_command("survey", "send", srv.number, "--segment", "key_account", "--as", "qm")
    out = capsys.readouterr().out
    assert out.strip().endswith(f"{srv.number}: 1 invited, 0 not; 1 sent, 0 bounced, 0 to retry.")
    assert [rcpt for _, rcpt in smtp_server.box.envelopes] == [["a@key.example"]]
    assert AuditEvent.objects.filter(action="invitation.created", actor_label="qm").count() == 1
