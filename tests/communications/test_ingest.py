"""Mail into the log: matching customers, threads, idempotency, the complaints rule, triage
reasons, files of mail (.eml and mbox) and the `mail import` command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from tests.communications.factories import MailboxFactory, mail, mbox
from tests.factories import ContactFactory, CustomerFactory, UserFactory
from tests.feedback.factories import PerceptionSourceFactory

from harken.communications import services
from harken.communications.choices import CommunicationStatus, Direction, Phase
from harken.communications.models import Communication, MailRun, Thread
from harken.core.files import verify_file
from harken.core.models import AuditEvent
from harken.feedback.choices import ItemKind, SourceKind
from harken.feedback.models import FeedbackItem

pytestmark = pytest.mark.django_db


def acme_mail(**fields):
    """A message from Acme's contact unless the test says otherwise."""
    fields.setdefault("sender", "maria@acme.example")
    return mail(**fields)


@pytest.fixture
def acme():
    customer = CustomerFactory(name="Acme Pumps Ltd", email_domain="acme.example")
    contact = ContactFactory(customer=customer, name="Maria Novak", email="maria@acme.example")
    return customer, contact


def test_mail_from_a_contact_is_filed_under_its_customer(acme):
    customer, contact = acme
    raw = acme_mail(sender="Maria <MARIA@acme.example>", message_id="<m1@acme.example>")
    result = services.ingest_message(raw)
    c = result.communication
    assert result.created
    assert c.number.startswith("COM-")
    assert (c.customer, list(c.contacts.all())) == (customer, [contact])
    assert (c.direction, c.channel, c.status) == (Direction.INBOUND, "email", "filed")
    assert c.problems == []
    assert c.message_key == "<m1@acme.example>"
    assert c.body == "Hello, when will the parts ship?"
    assert verify_file(c.raw_message)
    with c.raw_message.open() as handle:
        assert handle.read() == raw


def test_mail_from_an_unknown_address_of_the_domain_matches_by_domain(acme):
    customer, _contact = acme
    c = services.ingest_message(acme_mail(sender="new.buyer@eu.acme.example")).communication
    assert c.customer == customer
    assert list(c.contacts.all()) == []
    assert c.status == CommunicationStatus.FILED


def test_unmatched_mail_waits_in_triage_with_the_reason():
    c = services.ingest_message(mail(sender="stranger@nowhere.example")).communication
    assert c.customer is None
    assert c.status == CommunicationStatus.TRIAGE
    assert c.problems == ["No customer matches stranger@nowhere.example or its domain."]


def test_a_domain_shared_by_two_customers_is_not_guessed():
    CustomerFactory(name="Twin A", email_domain="twins.example")
    CustomerFactory(name="Twin B", email_domain="twins.example")
    c = services.ingest_message(mail(sender="x@twins.example")).communication
    assert c.customer is None
    assert c.problems == [
        "The domain of x@twins.example belongs to several customers: Twin A, Twin B."
    ]


def test_outbound_mail_is_matched_by_its_recipients(acme, monkeypatch):
    customer, contact = acme
    monkeypatch.setenv("HARKEN_MAIL_OUR_DOMAINS", "harken-company.example")
    person = UserFactory(username="sam", email="sam@harken-company.example")
    c = services.ingest_message(
        acme_mail(sender="sam@harken-company.example", to="maria@acme.example")
    ).communication
    assert c.direction == Direction.OUTBOUND
    assert c.customer == customer
    assert c.staff == person
    assert list(c.contacts.all()) == [contact]


def test_the_same_message_twice_is_one_communication(acme):
    raw = acme_mail(message_id="<once@acme.example>")
    first = services.ingest_message(raw)
    second = services.ingest_message(raw)
    assert first.created and not second.created
    assert second.communication == first.communication
    assert Communication.objects.count() == 1
    assert AuditEvent.objects.filter(action="communication.created").count() == 1


def test_a_message_without_message_id_is_recognised_by_its_content(acme):
    raw = acme_mail(message_id=None)
    first = services.ingest_message(raw).communication
    assert first.message_key.startswith("sha256:")
    assert not services.ingest_message(raw).created


def test_replies_join_the_thread_of_the_message_they_answer(acme):
    first = services.ingest_message(
        acme_mail(subject="Flange order", message_id="<a@acme.example>")
    ).communication
    reply = services.ingest_message(
        acme_mail(
            subject="RE: Flange order",
            message_id="<b@acme.example>",
            in_reply_to="<a@acme.example>",
            references="<a@acme.example>",
        )
    ).communication
    other = services.ingest_message(
        acme_mail(subject="Something else", message_id="<c@acme.example>")
    ).communication
    assert reply.thread == first.thread
    assert other.thread != first.thread
    assert first.thread.subject == "Flange order"
    assert first.thread.customer == acme[0]


def test_a_reply_that_arrives_before_its_parent_is_threaded_when_the_parent_comes(acme):
    reply = services.ingest_message(
        acme_mail(message_id="<late-b@acme.example>", in_reply_to="<late-a@acme.example>")
    ).communication
    parent = services.ingest_message(acme_mail(message_id="<late-a@acme.example>")).communication
    reply.refresh_from_db()
    assert parent.thread == reply.thread


def test_two_threads_that_turn_out_to_be_one_are_merged(acme):
    a = services.ingest_message(acme_mail(message_id="<ma@acme.example>")).communication
    c = services.ingest_message(
        acme_mail(message_id="<mc@acme.example>", references="<ma@acme.example> <mb@acme.example>")
    ).communication
    assert c.thread == a.thread
    # b answers a, and d answers b; b arrives last and joins them all.
    d = services.ingest_message(
        acme_mail(message_id="<md@acme.example>", in_reply_to="<mb@acme.example>")
    ).communication
    assert d.thread != a.thread
    b = services.ingest_message(
        acme_mail(message_id="<mb@acme.example>", in_reply_to="<ma@acme.example>")
    ).communication
    d.refresh_from_db()
    assert b.thread == a.thread == d.thread
    assert Thread.objects.count() == 1
    assert AuditEvent.objects.filter(action="thread.merged").count() == 1


def test_html_mail_is_stored_sanitised_with_a_text_version(acme):
    c = services.ingest_message(
        acme_mail(
            body="",
            html='<p>Please <b>call</b> me<script>fetch("https://evil.example")</script></p>'
            '<img src="https://tracker.example/p.gif" onerror="alert(1)">',
        )
    ).communication
    assert "<script" not in c.html_body
    assert "evil.example" not in c.html_body
    assert "tracker" not in c.html_body
    assert "onerror" not in c.html_body
    assert "<b>call</b>" in c.html_body


def test_a_malformed_message_is_stored_in_triage_with_clear_reasons(acme):
    raw = (
        b"Subject: Broken\r\nMessage-ID: <broken@x.example>\r\n"
        b"Date: Mon, 5 Jan 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nText \xe9\r\n"
    )
    result = services.ingest_message(raw)
    c = result.communication
    assert result.created
    assert c.status == CommunicationStatus.TRIAGE
    assert c.problems == [
        "No sender: the From header is missing or holds no address.",
        "The text/plain part declares the unknown character set 'x-unknown': it was read "
        "as UTF-8 where that fits and as Latin-1 otherwise; check the text.",
        "Broken MIME structure: the closing multipart boundary is missing "
        "(the message may be cut off).",
    ]
    assert c.body == "Text é"
    assert c.raw_message is not None


def test_a_25_mb_attachment_is_kept_in_the_original_and_named_in_triage(acme):
    big = b"\x89PNG" + bytes(25 * 1024 * 1024)
    raw = acme_mail(
        sender="maria@acme.example",
        attachments=(
            ("photo.png", big, "image/png"),
            ("note.txt", b"small one", "text/plain"),
        ),
    )
    c = services.ingest_message(raw).communication
    assert c.customer == acme[0]
    assert c.status == CommunicationStatus.TRIAGE
    assert c.problems == [
        "The attachment 'photo.png' is 25.0 MB, over the 20 MB limit: it was not extracted "
        "(it stays in the original message, which is kept)."
    ]
    stored = {a.name: a for a in c.attachments.all()}
    assert stored["photo.png"].file is None
    assert stored["photo.png"].size == len(big)
    assert stored["note.txt"].file.size == 9
    assert c.raw_message.size == len(raw)


def test_a_complaints_mailbox_turns_a_new_thread_into_one_complaint(acme):
    customer, contact = acme
    source = PerceptionSourceFactory(
        name="Complaints inbox", kind=SourceKind.COMPLAINTS_INBOX, structured=False
    )
    complaints = MailboxFactory(
        name="complaints@",
        feedback_source=source,
        feedback_kind=ItemKind.COMPLAINT,
        phase=Phase.FEEDBACK,
    )
    first = services.ingest_message(
        acme_mail(
            subject="Scratched flanges",
            body="The flanges arrived scratched.",
            message_id="<cmp-1@acme.example>",
        ),
        mailbox=complaints,
    ).communication
    item = FeedbackItem.objects.get()
    assert item.kind == ItemKind.COMPLAINT
    assert item.complaint_number.startswith("CMP-")
    assert (item.customer, item.contact, item.title) == (customer, contact, "Scratched flanges")
    assert item.text == "The flanges arrived scratched."
    assert [link.label for link in first.links.all()] == [f"Feedback {item.complaint_number}"]
    assert first.phase == Phase.FEEDBACK
    reply = services.ingest_message(
        acme_mail(message_id="<cmp-2@acme.example>", in_reply_to="<cmp-1@acme.example>"),
        mailbox=complaints,
    ).communication
    assert FeedbackItem.objects.count() == 1
    assert [link.target for link in reply.links.all()] == [item]


def test_a_copy_already_logged_through_another_mailbox_still_gets_the_rule(acme):
    raw = acme_mail(message_id="<cc@acme.example>", body="Broken valve.")
    services.ingest_message(raw, mailbox=MailboxFactory(name="sales@"))
    source = PerceptionSourceFactory(name="Complaints", kind=SourceKind.COMPLAINTS_INBOX)
    complaints = MailboxFactory(
        name="complaints@", feedback_source=source, feedback_kind="complaint"
    )
    result = services.ingest_message(raw, mailbox=complaints)
    assert not result.created
    assert FeedbackItem.objects.get().kind == "complaint"


def test_filing_from_triage_sets_the_customer_of_the_thread_and_the_complaint(analyst):
    source = PerceptionSourceFactory(name="Complaints", kind=SourceKind.COMPLAINTS_INBOX)
    mailbox = MailboxFactory(name="complaints@", feedback_source=source, feedback_kind="complaint")
    c = services.ingest_message(
        mail(sender="someone@gmail.example", body="Leaking valve"), mailbox=mailbox
    ).communication
    assert c.status == CommunicationStatus.TRIAGE
    customer = CustomerFactory()
    services.file_communication(c, actor=analyst, customer=customer, note="Known buyer")
    c.refresh_from_db()
    assert (c.status, c.customer, c.triage_note) == ("filed", customer, "Known buyer")
    assert c.thread.customer == customer
    assert FeedbackItem.objects.get().customer == customer
    assert AuditEvent.objects.filter(action="feedbackitem.customer_assigned").count() == 1


def test_dismissing_needs_a_reason(analyst):
    c = services.ingest_message(mail(sender="spam@spam.example")).communication
    with pytest.raises(Exception, match="say why"):
        services.dismiss(c, actor=analyst, reason="")
    services.dismiss(c, actor=analyst, reason="Newsletter")
    c.refresh_from_db()
    assert (c.status, c.triage_note) == (CommunicationStatus.DISMISSED, "Newsletter")


def test_a_message_dated_in_the_future_uses_the_time_it_arrived(acme):
    future = timezone.now() + dt.timedelta(days=30)
    c = services.ingest_message(acme_mail(date=future)).communication
    assert c.occurred_at < timezone.now() + dt.timedelta(minutes=1)
    assert c.status == CommunicationStatus.TRIAGE
    assert c.problems[0].startswith("The message is dated ")


def test_an_mbox_import_lands_every_message_and_keeps_the_file(acme):
    archive = mbox(
        acme_mail(message_id="<x1@acme.example>", subject="One"),
        acme_mail(
            message_id="<x2@acme.example>", subject="RE: One", in_reply_to="<x1@acme.example>"
        ),
        acme_mail(
            message_id="<x3@acme.example>", subject="From the start", body="From here on\nok"
        ),
        b"this is not an e-mail at all \xff",
    )
    run = services.import_mail_file(io.BytesIO(archive), name="archive.mbox")
    assert (run.seen, run.created, run.duplicates, run.failed) == (4, 4, 0, 0)
    assert run.triaged == 1
    assert run.file.name == "archive.mbox"
    assert verify_file(run.file)
    one, reply = (Communication.objects.get(message_key=f"<x{i}@acme.example>") for i in (1, 2))
    assert one.thread == reply.thread
    again = services.import_mail_file(io.BytesIO(archive), name="archive.mbox")
    assert (again.created, again.duplicates) == (0, 4)


def test_the_mail_import_command_reads_an_eml_and_reports(tmp_path, acme):
    path = tmp_path / "saved.eml"
    path.write_bytes(acme_mail(message_id="<cli@acme.example>"))
    out = io.StringIO()
    call_command("mail", "import", str(path), stdout=out)
    assert out.getvalue().strip() == (
        "1 messages read: 1 new (0 to triage), 0 already in the log, 0 failed."
    )
    assert Communication.objects.get().message_key == "<cli@acme.example>"
    run = MailRun.objects.get()
    assert run.status == "completed"
    event = AuditEvent.objects.get(action="communication.created")
    assert event.actor_label == "cli:mail"


def test_the_mail_command_refuses_an_unknown_mailbox_and_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a file"):
        call_command("mail", "import", str(tmp_path / "nope.eml"))
    path = tmp_path / "x.eml"
    path.write_bytes(mail())
    with pytest.raises(CommandError, match="No mailbox is named 'ghost'"):
        call_command("mail", "import", str(path), "--mailbox", "ghost")
    with pytest.raises(CommandError, match="No mailbox is configured"):
        call_command("mail", "fetch")
