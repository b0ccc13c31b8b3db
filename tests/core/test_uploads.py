"""Upload limits (ASVS 12.1.1): a file over its entry point's limit is refused by name and
with the limit, and nothing of it is kept — no record, no bytes in the storage."""

from __future__ import annotations

import io
import os

import pytest
from django.core.files.storage import default_storage

from harken.core.files import FileTooLarge, store_file
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
