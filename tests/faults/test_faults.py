"""Faults in the suite: the database connection drops during an import, the evidence storage
is full, the mail server refuses the invitations for a while. In each case nothing half-lands,
the person or the batch is told why, and trying again finishes the work exactly once."""

from __future__ import annotations

import datetime as dt
import errno
import io
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone
from tests.conftest import client_for
from tests.documents.factories import DocumentFactory
from tests.factories import ContactFactory
from tests.feedback.factories import PerceptionSourceFactory
from tests.surveys.conftest import free_port
from tests.surveys.factories import survey

from harken.core.files import NoSpace, store_bytes
from harken.core.models import AuditEvent, EvidenceFile
from harken.documents.models import DocumentVersion
from harken.feedback import importing
from harken.feedback.importing import Options, create_batch, run_import
from harken.feedback.models import FeedbackItem
from harken.surveys import services
from harken.surveys.choices import InvitationStatus
from harken.surveys.models import Invitation

pytestmark = pytest.mark.django_db

OPTIONS = Options(
    preset="generic",
    mapping={"external_id": "id", "received_at": "date", "text": "body", "score": "rating"},
    scale="nps",
    kind="survey_response",
)
ROWS = 7
FILE = (
    "id,date,body,rating\n"
    + "".join(f"R{n},2026-01-0{n} 10:00,Comment number {n},{n}\n" for n in range(1, ROWS + 1))
).encode()


# The database connection drops during an import -------------------------------------------


def test_a_dropped_connection_fails_the_batch_keeps_whole_chunks_and_a_rerun_resumes(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(importing, "CHUNK_SIZE", 3)
    source = PerceptionSourceFactory(name="Exports")
    real_insert = importing.BulkWriter.insert
    calls = {"n": 0}

    def insert_then_drop(self: Any, params: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            # Half the chunk reaches the table, then the server goes away.
            real_insert(self, params[:1])
            raise OperationalError("server closed the connection unexpectedly")
        real_insert(self, params)

    monkeypatch.setattr(importing.BulkWriter, "insert", insert_then_drop)
    batch = run_import(
        create_batch(source=source, upload=io.BytesIO(FILE), name="e.csv", options=OPTIONS),
        parallel=False,
    )
    assert batch.status == "failed"
    assert batch.message.startswith("The database connection failed during the import")
    assert "3 rows were written; import the same file again" in batch.message
    # The first chunk landed whole, the second not at all (not even its first row), and the
    # audit trail holds one rows_added event: the one of the chunk that landed.
    assert sorted(FeedbackItem.objects.values_list("external_id", flat=True)) == ["R1", "R2", "R3"]
    assert AuditEvent.objects.filter(action="importbatch.rows_added").count() == 1

    monkeypatch.setattr(importing.BulkWriter, "insert", real_insert)
    again = run_import(
        create_batch(source=source, upload=io.BytesIO(FILE), name="e.csv", options=OPTIONS),
        parallel=False,
    )
    assert (again.status, again.created_count, again.duplicate_count) == ("completed", 4, 3)
    ids = list(FeedbackItem.objects.values_list("external_id", flat=True))
    assert sorted(ids) == [f"R{n}" for n in range(1, ROWS + 1)]


# The disk is full while an evidence file is stored -----------------------------------------


@pytest.fixture
def full_disk(monkeypatch: Any) -> dict[str, int]:
    """The storage writes part of a file, then the device is full (ENOSPC)."""
    calls = {"n": 0}

    def save(name: str, content: Any, max_length: int | None = None) -> str:
        calls["n"] += 1
        path = default_storage.path(name)
        import os

        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content.read(10))  # a partial copy under the content's name
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(default_storage, "save", save)
    return calls


def test_a_full_disk_is_a_clear_error_and_leaves_no_record_and_no_partial_file(
    full_disk: dict[str, int], monkeypatch: Any
) -> None:
    data = b"%PDF-1.4 the specification, version 3" * 10
    with pytest.raises(
        NoSpace, match=r"spec\.pdf could not be stored: the evidence storage is full"
    ):
        store_bytes(data, name="spec.pdf")
    assert EvidenceFile.objects.count() == 0
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    assert not default_storage.exists(f"evidence/{sha[:2]}/{sha}")
    # Once there is room again, the same bytes are stored whole.
    monkeypatch.undo()
    stored = store_bytes(data, name="spec.pdf")
    with stored.open() as handle:
        assert handle.read() == data


def test_a_document_upload_on_a_full_disk_says_so_and_saves_no_version(
    full_disk: dict[str, int], quality_manager: Any
) -> None:
    document = DocumentFactory()
    before = DocumentVersion.objects.filter(document=document).count()
    response = client_for(quality_manager).post(
        f"/documents/versions/add/?document={document.pk}",
        {
            "label": "B",
            "change_summary": "New drawing",
            "upload": SimpleUploadedFile("drawing.pdf", b"%PDF-1.4 drawing", "application/pdf"),
        },
    )
    assert full_disk["n"] == 1
    assert response.status_code == 422
    assert (
        "drawing.pdf could not be stored: the evidence storage is full" in response.content.decode()
    )
    assert DocumentVersion.objects.filter(document=document).count() == before
    assert EvidenceFile.objects.count() == 0


# The mail server refuses the invitations for a while ---------------------------------------


class Refusing:
    """An SMTP server that answers every message with a temporary refusal until told not to."""

    def __init__(self) -> None:
        self.refuse = True
        self.delivered: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 4.3.0 Mail server busy, try again later"
        self.delivered.append(list(envelope.rcpt_tos))
        return "250 OK"


def test_invitations_the_server_refuses_stay_queued_and_are_sent_once_later(
    settings: Any, quality_manager: Any
) -> None:
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    handler = Refusing()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        srv = survey(actor=quality_manager)
        contacts = [ContactFactory() for _ in range(3)]
        services.invite(srv, contacts, actor=quality_manager)

        report = services.send_due()
        assert (report.sent, report.failed) == (0, 3)
        assert set(Invitation.objects.values_list("status", "attempts")) == {
            (InvitationStatus.QUEUED, 1)
        }
        assert "451" in Invitation.objects.first().last_error
        assert handler.delivered == []

        handler.refuse = False
        assert services.send_due().sent == 0  # not due again yet: nothing is hurried
        later = timezone.now() + dt.timedelta(hours=2)
        assert services.send_due(now=later).sent == 3
        assert services.send_due(now=later + dt.timedelta(hours=2)).sent == 0
    finally:
        controller.stop()
    assert sorted(rcpt for (rcpt,) in handler.delivered) == sorted(c.email for c in contacts)
    assert set(Invitation.objects.values_list("status", flat=True)) == {InvitationStatus.SENT}
