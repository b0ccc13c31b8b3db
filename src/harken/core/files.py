"""Evidence files: store bytes once under their SHA-256 and describe them in the database."""

from __future__ import annotations

import errno
import hashlib
import tempfile
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from .models import EvidenceFile

CHUNK = 1024 * 1024


class FileTooLarge(ValueError):
    """The file exceeds the limit its entry point allows."""


class NoSpace(FileTooLarge):
    """The storage has no room left for the file: as with a file over the limit, nothing is
    kept and the person is told why (entry points that refuse large files refuse this too)."""


def store_file(
    stream: IO[bytes],
    *,
    name: str,
    content_type: str = "",
    purpose: str = "",
    max_size: int | None = None,
) -> EvidenceFile:
    """Copy `stream` into content-addressed storage and record it.

    The bytes are hashed while they are copied to a temporary file, so memory stays
    flat for large uploads; an existing copy of the same content is kept as it is.
    """
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if max_size is not None and size > max_size:
                raise FileTooLarge(
                    f"{name} is larger than the limit of {max_size // (1024 * 1024)} MB."
                )
            digest.update(chunk)
            spool.write(chunk)
        sha = digest.hexdigest()
        path = f"evidence/{sha[:2]}/{sha}"
        if not default_storage.exists(path):
            spool.seek(0)
            try:
                saved = default_storage.save(path, File(spool))
            except OSError as exc:
                # A partial copy under the content's name would pass for the whole file the
                # next time the same bytes arrive (exists() above): remove it.
                if default_storage.exists(path):
                    default_storage.delete(path)
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise NoSpace(
                        f"{name} could not be stored: the evidence storage is full. "
                        "Nothing was saved; ask your administrator to free space."
                    ) from exc
                raise
            if saved != path:  # the storage must never pick another name for us
                raise RuntimeError(f"storage renamed {path} to {saved}")
    with transaction.atomic():
        return EvidenceFile.objects.create(
            sha256=sha,
            size=size,
            content_type=content_type[:150],
            name=name[:255] or sha,
            path=path,
            purpose=purpose,
        )


def store_bytes(data: bytes, **kwargs: Any) -> EvidenceFile:
    import io

    return store_file(io.BytesIO(data), **kwargs)


def verify_file(evidence: EvidenceFile) -> bool:
    """Whether the stored bytes still hash to the recorded SHA-256."""
    digest = hashlib.sha256()
    with evidence.open() as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == evidence.sha256
