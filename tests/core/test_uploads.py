"""Upload limits (ASVS 12.1.1): a file over its entry point's limit is refused by name and
with the limit, and nothing of it is kept — no record, no bytes in the storage."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.storage import default_storage

from harken.core.files import FileTooLarge, UnsafeFile, store_file
from harken.core.models import EvidenceFile

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def stored_files() -> set[str]:
    """Every file under the storage's directory, temporary ones included."""
    root = default_storage.location
    return {os.path.join(top, name) for top, _, names in os.walk(root) for name in names}


def test_a_file_over_the_limit_is_refused_and_leaves_nothing():
    before = stored_files()
    with pytest.raises(FileTooLarge) as refused:
        store_file(io.BytesIO(b"x" * (MB + 1)), name="huge.pdf", purpose="test", max_size=MB)
    assert str(refused.value) == "huge.pdf is larger than the limit of 1 MB."
    assert not EvidenceFile.objects.filter(name="huge.pdf").exists()
    assert stored_files() == before


def test_a_file_at_the_limit_is_kept_whole():
    kept = store_file(io.BytesIO(b"y" * MB), name="fits.pdf", purpose="test", max_size=MB)
    assert kept.size == MB
    with kept.open() as handle:
        assert handle.read() == b"y" * MB


PE_HEADER = b"MZ" + b"\0" * 0x3A + (0x40).to_bytes(4, "little") + b"PE\0\0" + b"\0" * 64


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("setup.exe", b"anything"),
        ("report.pdf", PE_HEADER),  # a Windows program under another name
        ("tool", b"\x7fELF\x02\x01\x01"),
        ("run.txt", b"#!/bin/sh\nrm -rf /\n"),
        ("macro.vbs", b"MsgBox 1"),
    ],
)
def test_programs_and_scripts_are_refused_as_uploads(name, head):
    with pytest.raises(UnsafeFile) as refused:
        store_file(io.BytesIO(head), name=name, purpose="test", uploaded=True)
    assert str(refused.value).startswith(f"{name} looks like a program or script")
    assert not EvidenceFile.objects.filter(name=name).exists()


def test_text_that_merely_starts_like_a_program_is_kept():
    for name, data in (("codes.csv", b"MZ-code,name\nA1,Flange\n"), ("note.txt", b"#!important")):
        assert store_file(io.BytesIO(data), name=name, uploaded=True).size == len(data)
    # Mail Harken receives is kept as it came (the upload check is for what people choose).
    assert store_file(io.BytesIO(PE_HEADER), name="attachment.exe").name == "attachment.exe"


def test_a_document_upload_of_a_program_is_a_form_error(quality_manager):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from tests.conftest import client_for
    from tests.documents.factories import DocumentFactory

    from harken.documents.models import DocumentVersion

    document = DocumentFactory()
    response = client_for(quality_manager).post(
        f"/documents/versions/add/?document={document.pk}",
        {
            "label": "B",
            "change_summary": "New drawing",
            "upload": SimpleUploadedFile("drawing.exe", PE_HEADER, "application/octet-stream"),
        },
    )
    assert response.status_code == 422
    assert "drawing.exe looks like a program or script" in response.content.decode()
    assert not DocumentVersion.objects.filter(document=document, label="B").exists()
