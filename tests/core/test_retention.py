"""Retention and disposition: records past their period are listed, then reviewed,
anonymised or deleted, each with an audit event naming the rule; what others still
refer to is kept; the audit trail is never rewritten."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from tests.communications.factories import CommunicationFactory
from tests.factories import ContactFactory, FeedbackItemFactory, PerceptionSourceFactory

from harken.actions.models import Theme
from harken.core.audit import verify_chain
from harken.core.backup import read_facts
from harken.core.choices import RetentionAction
from harken.core.files import store_bytes
from harken.core.models import AuditEvent, Disposition, RetentionRule
from harken.core.retention import retention_tick
from harken.feedback.models import FeedbackItem, ImportBatch

pytestmark = pytest.mark.django_db

LONG_AGO = dt.timedelta(days=800)


def rule(record_type: str, action: str, months: int = 24) -> RetentionRule:
    return RetentionRule.objects.create(
        record_type=record_type,
        period_months=months,
        action=action,
        basis="Complaint records: contract term plus one year (quality manual 7.5).",
    )


def old_item(**kwargs) -> FeedbackItem:
    return FeedbackItemFactory(
        received_at=timezone.now() - LONG_AGO,
        title="Call from Ada Lovelace",
        text="Ada Lovelace (ada@example.com) says the parts were late.",
        contact=ContactFactory(name="Ada Lovelace"),
        **kwargs,
    )


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("retention", *args, stdout=out)
    return out.getvalue()


def test_dry_run_lists_what_is_due_and_changes_nothing():
    item = old_item()
    FeedbackItemFactory()  # received today: not due
    the_rule = rule("feedback.feedbackitem", RetentionAction.DELETE)
    events = AuditEvent.objects.count()

    out = run("--dry-run")

    assert f"Rule {the_rule.pk}: Feedback items: 24 months, then delete" in out
    assert f"  {item.number}  " in out
    assert "Feedback items: 1 due to be deleted" in out
    assert "dry run: 1 records due; nothing was changed" in out
    assert AuditEvent.objects.count() == events
    assert FeedbackItem.objects.filter(pk=item.pk).exists()


def test_anonymising_clears_personal_fields_once_and_names_the_rule():
    item = old_item()
    recent = FeedbackItemFactory(text="Recent, keep me")
    the_rule = rule("feedback.feedbackitem", RetentionAction.ANONYMISE)

    out = run("--apply")

    assert "Feedback items: 1 anonymised" in out
    item.refresh_from_db()
    assert (item.title, item.text, item.raw, item.contact, item.external_id) == (
        "",
        "",
        {},
        None,
        "",
    )
    assert item.kind == "complaint" and item.source_id is not None  # the statistics stay
    recent.refresh_from_db()
    assert recent.text == "Recent, keep me"
    event = AuditEvent.objects.get(action="retention.anonymised")
    assert (event.object_type, event.object_id, event.object_label) == (
        "feedback.feedbackitem",
        str(item.pk),
        item.number,
    )
    assert event.changes["rule"] == the_rule.pk
    assert event.changes["rule_label"] == str(the_rule)
    assert event.changes["basis"] == the_rule.basis
    assert event.changes["fields"] == ["contact", "external_id", "raw", "text", "title"]
    assert "Ada" not in str(event.changes) and "Ada" not in event.object_label
    disposition = Disposition.objects.get()
    assert (disposition.object_id, disposition.audit_seq) == (item.pk, event.seq)

    # Once: the next run finds nothing more to do.
    assert "Feedback items: 0 anonymised" in run("--apply")
    assert AuditEvent.objects.filter(action="retention.anonymised").count() == 1


def test_deleting_keeps_the_audit_trail_and_records_the_rule():
    item = old_item()
    pk, number = item.pk, item.number
    created = AuditEvent.objects.get(
        object_type="feedback.feedbackitem", action="feedbackitem.created"
    )
    before = AuditEvent.objects.count()
    the_rule = rule("feedback.feedbackitem", RetentionAction.DELETE)

    out = run("--apply")

    assert "Feedback items: 1 deleted" in out
    assert "retention done: 1 disposed of, 0 kept" in out
    assert not FeedbackItem.objects.filter(pk=pk).exists()
    # The trail only grew: the creation event is still there, unchanged, and the chain verifies.
    assert AuditEvent.objects.count() > before
    assert AuditEvent.objects.get(pk=created.pk).hash == created.hash
    assert verify_chain().ok
    deleted = AuditEvent.objects.get(action="retention.deleted")
    assert (deleted.object_id, deleted.object_label) == (str(pk), number)
    assert deleted.changes["rule"] == the_rule.pk
    # The delete event the ORM writes carries the anonymised values, not the personal ones.
    orm_event = AuditEvent.objects.get(action="feedbackitem.deleted", object_id=str(pk))
    assert orm_event.changes["text"] == ["", None]
    assert Disposition.objects.get().action == RetentionAction.DELETE


def test_a_record_others_refer_to_is_kept_and_reported():
    item = old_item()
    theme = Theme.objects.create(title="Late deliveries")
    theme.items.add(item)
    rule("feedback.feedbackitem", RetentionAction.DELETE)

    out = run("--apply")

    assert f"{item.number} is kept: referred to by theme {theme.number}" in out
    assert "Feedback items: 0 deleted, 1 kept (still referred to)" in out
    item.refresh_from_db()
    assert item.text.startswith("Ada Lovelace")  # nothing half-done: not even anonymised
    assert not AuditEvent.objects.filter(action="retention.deleted").exists()
    assert not Disposition.objects.exists()


def test_import_originals_lose_their_bytes_but_keep_the_batch_record(
    django_capture_on_commit_callbacks,
):
    source = PerceptionSourceFactory()
    original = store_bytes(b"when,who\n2023-01-01,Ada\n", name="export.csv", purpose="import")
    shared = store_bytes(b"same bytes in two places\n", name="a.csv", purpose="import")
    still_needed = store_bytes(b"same bytes in two places\n", name="b.csv", purpose="attachment")
    old = timezone.now() - LONG_AGO
    batch = ImportBatch.objects.create(source=source, file=original, preset="generic")
    other = ImportBatch.objects.create(source=source, file=shared, preset="generic")
    ImportBatch.objects.filter(pk__in=[batch.pk, other.pk]).update(created_at=old)
    rule("feedback.importbatch", RetentionAction.DELETE, months=12)

    with django_capture_on_commit_callbacks(execute=True):
        out = run("--apply")

    assert "Import originals: 2 deleted" in out
    batch.refresh_from_db()
    original.refresh_from_db()
    assert original.disposed_at is not None
    assert not default_storage.exists(original.path)
    with pytest.raises(FileNotFoundError, match=r"export\.csv was disposed of on"):
        original.open()
    # Content-addressed: bytes another live record uses stay.
    assert default_storage.exists(still_needed.path)
    assert batch.number and batch.file_id == original.pk
    event = AuditEvent.objects.get(action="retention.deleted", object_id=str(batch.pk))
    assert event.changes["files"] == [f"export.csv ({original.sha256[:12]})"]
    # A backup no longer expects the disposed bytes.
    with connection.cursor() as cursor:
        files = dict(read_facts(cursor, connection.vendor).files)
    assert original.path not in files and still_needed.path in files


def test_communications_are_anonymised_with_their_raw_message(django_capture_on_commit_callbacks):
    raw = store_bytes(b"From: ada@example.com\r\n\r\nHello\r\n", name="mail.eml")
    communication = CommunicationFactory(
        occurred_at=timezone.now() - LONG_AGO,
        subject="Ada's order",
        body="Please call Ada on +44 1234",
        from_address="ada@example.com",
        raw_message=raw,
    )
    communication.contacts.add(ContactFactory(customer=communication.customer, name="Ada L"))
    rule("communications.communication", RetentionAction.ANONYMISE)

    with django_capture_on_commit_callbacks(execute=True):
        out = run("--apply")

    assert "Communications: 1 anonymised" in out
    communication.refresh_from_db()
    assert (communication.subject, communication.body, communication.from_address) == ("", "", "")
    assert communication.contacts.count() == 0
    raw.refresh_from_db()
    assert raw.disposed_at is not None and not default_storage.exists(raw.path)
    event = AuditEvent.objects.get(action="retention.anonymised")
    assert "Ada" not in str(event.changes)


def test_the_tick_applies_active_rules_only():
    item = old_item()
    inactive = old_item()
    rule("feedback.feedbackitem", RetentionAction.REVIEW)
    RetentionRule.objects.create(
        record_type="communications.communication",
        period_months=1,
        action=RetentionAction.DELETE,
        basis="Not yet decided",
        active=False,
    )
    CommunicationFactory(occurred_at=timezone.now() - LONG_AGO)

    summary = retention_tick(timezone.now())

    assert summary == "Feedback items: 2 flagged for review"
    assert set(
        AuditEvent.objects.filter(action="retention.review_due").values_list("object_id", flat=True)
    ) == {str(item.pk), str(inactive.pk)}
    assert retention_tick(timezone.now()) == "Feedback items: 0 flagged for review"


def test_rule_pages_list_rules_and_what_is_due(qm_client, auditor_client, client, staff):
    old_item()
    the_rule = rule("feedback.feedbackitem", RetentionAction.DELETE)

    page = qm_client.get("/retention/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Feedback items" in text and "Communications" in text and "Import originals" in text
    assert "No rule: kept indefinitely." in text
    detail = qm_client.get(f"/retention/{the_rule.pk}/")
    assert detail.status_code == 200
    assert "Due: 1 record dated before" in detail.content.decode()

    assert auditor_client.get("/retention/").status_code == 200
    assert auditor_client.get(f"/retention/{the_rule.pk}/edit/").status_code == 403
    client.force_login(staff)
    assert client.get("/retention/").status_code == 403


def test_the_rule_form_names_the_field_and_the_reason(qm_client):
    response = qm_client.post(
        "/retention/add/",
        {"record_type": "feedback.importbatch", "period_months": "0", "action": "anonymise"},
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "period_months" in form.errors
    assert "basis" in form.errors

    response = qm_client.post(
        "/retention/add/",
        {
            "record_type": "feedback.importbatch",
            "period_months": "12",
            "action": "anonymise",
            "basis": "Originals are evidence for one year.",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].errors["action"] == [
        "Import originals can only be: review, delete."
    ]

    response = qm_client.post(
        "/retention/add/",
        {
            "record_type": "feedback.importbatch",
            "period_months": "12",
            "action": "delete",
            "basis": "Originals are evidence for one year.",
            "active": "on",
        },
    )
    assert response.status_code == 302
    created = RetentionRule.objects.get()
    assert AuditEvent.objects.filter(
        action="retentionrule.created", object_id=str(created.pk)
    ).exists()
