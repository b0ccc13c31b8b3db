"""Fixtures of the communications tests: a real IMAP server, mail builders."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.communications.imap_server import ImapServer, dovecot


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on a loopback port for the module; skipped with the reason if it cannot run."""
    # Not pytest's tmp_path: that lives under a 0700 directory Dovecot's own users
    # cannot enter.
    folder = Path(tempfile.mkdtemp(prefix="harken-imap-"))
    folder.chmod(0o755)
    try:
        with dovecot(folder) as server:
            yield server
    except RuntimeError as exc:
        pytest.skip(f"no IMAP server for this test: {exc}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
