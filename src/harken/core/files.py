"""Evidence files: store bytes once under their SHA-256 and describe them in the database."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from .models import EvidenceFile

CHUNK = 1024 * 1024


class FileRefused(ValueError):
    """A file an entry point does not take: nothing of it is kept, and the message says why."""


class FileTooLarge(FileRefused):
    """The file exceeds the limit its entry point allows."""


class NoSpace(FileTooLarge):
    """The storage has no room left for the file: as with a file over the limit, nothing is
    kept and the person is told why (entry points that refuse large files refuse this too)."""


class UnsafeFile(FileRefused):
    """A program or script uploaded as evidence."""


# Programs and scripts are never evidence a person uploads: refused by their first bytes
# (Windows, Linux and macOS executables; scripts with a #!/ line) or by their name.
PROGRAM_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!/")
PROGRAM_SUFFIXES = frozenset(
    ".exe .dll .com .scr .msi .bat .cmd .ps1 .psm1 .vbs .vbe .js .jse .wsf .hta .jar .sh .app "
    ".apk .cpl .lnk .reg".split()
)


def _windows_program(head: bytes) -> bool:
    """An MZ header whose pointer leads to a PE signature (not just text starting "MZ")."""
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset : offset + 4] == b"PE\0\0"


def refuse_programs(name: str, head: bytes) -> None:
    """Raise UnsafeFile when `name` or the first bytes `head` say the file is a program."""
    suffix = os.path.splitext(name.lower())[1]
    if suffix in PROGRAM_SUFFIXES or head.startswith(PROGRAM_MAGIC) or _windows_program(head):
        raise UnsafeFile(
            f"{name} looks like a program or script; those are not taken as evidence. "
            "Put it in an archive or describe it in the record instead."
        )


def store_file(
    stream: IO[bytes],
    *,
    name: str,
    content_type: str = "",
    purpose: str = "",
    max_size: int | None = None,
    uploaded: bool = False,
) -> EvidenceFile:
    """Copy `stream` into content-addressed storage and record it.

    The bytes are hashed while they are copied to a temporary file, so memory stays
    flat for large uploads; an existing copy of the same content is kept as it is.
    `uploaded` marks a file a person chose: programs and scripts are refused
    (`refuse_programs`). Files Harken receives (mail) or makes are kept as they come.
    """
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as spool:
        while chunk := stream.read(CHUNK):
            if uploaded and size == 0:
                refuse_programs(name, chunk)
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
