"""`harken mail fetch` against a real IMAP server (Dovecot on loopback, TLS only).

Idempotent (a second fetch, or a message put back, adds nothing), replies threaded,
processed mail flagged or moved, a bad message never stops the run, and the password
is read from the variable the mailbox names.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.communications.factories import MailboxFactory, mail
from tests.factories import ContactFactory, CustomerFactory

from harken.communications import imap
from harken.communications.choices import CommunicationStatus
from harken.communications.models import Communication, Mailbox, MailRun
from harken.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def server(imap_server, monkeypatch):
    imap_server.empty()
    monkeypatch.setenv("HARKEN_TEST_IMAP_PASSWORD", imap_server.password)
    return imap_server


@pytest.fixture
def mailbox(server):
    return MailboxFactory(
        name="Shared inbox",
        host=server.host,
        port=server.port,
        username=server.user,
        password_env="HARKEN_TEST_IMAP_PASSWORD",
        ca_file=server.ca_file,
    )


@pytest.fixture
def acme():
    customer = CustomerFactory(name="Acme Pumps Ltd", email_domain="acme.example")
    ContactFactory(customer=customer, email="maria@acme.example")
    return customer


def test_fetch_is_idempotent_and_threads_replies(server, mailbox, acme):
    server.append(mail(sender="maria@acme.example", subject="Order 77", message_id="<o1@acme>"))
    server.append(
        mail(
            sender="maria@acme.example",
            subject="Re: Order 77",
            message_id="<o2@acme>",
            in_reply_to="<o1@acme>",
            references="<o1@acme>",
        )
    )
    run = imap.fetch_mailbox(mailbox)
    assert (run.seen, run.created, run.duplicates, run.failed) == (2, 2, 0, 0)
    first, reply = Communication.objects.order_by("occurred_at", "pk")
    assert first.customer == acme and reply.customer == acme
    assert reply.thread == first.thread
    assert first.mailbox == mailbox
    # Processed mail stays in the folder, flagged, so the next fetch skips it.
    assert len(server.folder_uids("INBOX", "KEYWORD", imap.FILED)) == 2
    again = imap.fetch_mailbox(mailbox)
    assert (again.seen, again.created) == (0, 0)
    # A message put back (unflagged) is recognised by its Message-ID.
    server.append(mail(sender="maria@acme.example", subject="Order 77", message_id="<o1@acme>"))
    third = imap.fetch_mailbox(mailbox)
    assert (third.seen, third.created, third.duplicates) == (1, 0, 1)
    assert Communication.objects.count() == 2
    mailbox.refresh_from_db()
    assert mailbox.last_fetched_at is not None
    assert AuditEvent.objects.filter(action="mailbox.fetched").count() == 3


def test_fetch_moves_processed_mail_to_the_done_folder(server, mailbox, acme):
    mailbox.done_folder = "Done"
    mailbox.save()
    server.append(mail(sender="maria@acme.example", message_id="<mv@acme>"))
    run = imap.fetch_mailbox(mailbox)
    assert run.created == 1
    assert server.folder_uids("INBOX") == []
    assert len(server.folder_uids("Done")) == 1


def test_a_malformed_message_never_stops_the_fetch(server, mailbox, acme):
    server.append(
        b"Subject: no sender, broken\r\nMessage-ID: <bad@x>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="Q"\r\n\r\n--Q\r\n'
        b"Content-Type: text/plain; charset=x-nothing\r\n\r\n\xe9t\xe9\r\n"
    )
    server.append(mail(sender="maria@acme.example", message_id="<good@acme>"))
    run = imap.fetch_mailbox(mailbox)
    assert (run.seen, run.created, run.triaged, run.failed) == (2, 2, 1, 0)
    bad = Communication.objects.get(message_key="<bad@x>")
    assert bad.status == CommunicationStatus.TRIAGE
    assert bad.problems[0] == "No sender: the From header is missing or holds no address."
    assert Communication.objects.get(message_key="<good@acme>").status == "filed"


def test_the_command_fetches_the_shared_inbox_configured_by_the_environment(
    server, monkeypatch, acme
):
    monkeypatch.setenv("HARKEN_IMAP_HOST", server.host)
    monkeypatch.setenv("HARKEN_IMAP_PORT", str(server.port))
    monkeypatch.setenv("HARKEN_IMAP_USER", server.user)
    monkeypatch.setenv("HARKEN_IMAP_PASSWORD", server.password)
    monkeypatch.setenv("HARKEN_IMAP_CA_FILE", server.ca_file)
    server.append(mail(sender="maria@acme.example", message_id="<env@acme>"))
    out = io.StringIO()
    call_command("mail", "fetch", stdout=out)
    assert out.getvalue().strip() == (
        "Shared inbox: 1 messages read: 1 new (0 to triage), 0 already in the log, 0 failed."
    )
    box = Mailbox.objects.get()
    assert (box.name, box.host, box.username) == ("Shared inbox", "", "")
    # The password never reaches the database or the audit trail.
    assert not AuditEvent.objects.filter(changes__icontains=server.password).exists()


def test_a_certificate_that_is_not_trusted_is_refused(server, mailbox):
    mailbox.ca_file = ""
    mailbox.save()
    with pytest.raises(imap.MailboxError, match="CERTIFICATE_VERIFY_FAILED"):
        imap.fetch_mailbox(mailbox)


def test_without_implicit_tls_the_fetch_upgrades_with_starttls(server, mailbox, acme):
    mailbox.use_ssl = False
    mailbox.port = server.starttls_port
    mailbox.save()
    server.append(mail(sender="maria@acme.example", message_id="<tls@acme>"))
    assert imap.fetch_mailbox(mailbox).created == 1


# Last: a failed login makes Dovecot slow down later logins from the same address.
def test_a_wrong_password_fails_the_run_and_names_the_server(server, mailbox, monkeypatch):
    monkeypatch.setenv("HARKEN_TEST_IMAP_PASSWORD", "wrong")
    with pytest.raises(imap.MailboxError, match=f"127.0.0.1:{server.port}"):
        imap.fetch_mailbox(mailbox)
    run = MailRun.objects.get()
    assert run.status == "failed"
    with pytest.raises(CommandError, match="1 of 1 mailboxes could not be read"):
        call_command("mail", "fetch", stdout=io.StringIO(), stderr=io.StringIO())
