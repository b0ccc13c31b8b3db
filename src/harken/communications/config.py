"""Mail settings read from the environment (docs/communications.md lists them).

Read at call time, not at start-up, so a changed variable takes effect on the next
fetch and tests can set them. Passwords are never stored: a mailbox names the variable
that holds its password.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from harken.settings import env, env_bool, env_int, env_list

DEFAULT_PASSWORD_ENV = "HARKEN_IMAP_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


@dataclass(frozen=True)
class ImapDefaults:
    host: str
    port: int
    user: str
    ssl: bool
    folder: str
    done_folder: str
    ca_file: str


def imap_defaults() -> ImapDefaults:
    ssl = env_bool("IMAP_SSL", True)
    return ImapDefaults(
        host=env("IMAP_HOST", "") or "",
        port=env_int("IMAP_PORT", 993 if ssl else 143),
        user=env("IMAP_USER", "") or "",
        ssl=ssl,
        folder=env("IMAP_FOLDER", "INBOX") or "INBOX",
        done_folder=env("IMAP_DONE_FOLDER", "") or "",
        ca_file=env("IMAP_CA_FILE", "") or "",
    )


def secret(name: str) -> str:
    """The value of the environment variable `name`, or of the file `<name>_FILE` names."""
    if not name:
        return ""
    if name in os.environ:
        return os.environ[name]
    path = os.environ.get(f"{name}_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {exc}") from exc
    return ""


def max_attachment_bytes() -> int:
    """Attachments above this are not extracted (they stay in the stored original)."""
    return env_int("MAIL_MAX_ATTACHMENT_MB", 20) * 1024 * 1024


def our_domains() -> list[str]:
    """Our own mail domains: mail from them is outbound, and they never match a customer."""
    return [d.lower().lstrip("@") for d in env_list("MAIL_OUR_DOMAINS", [])]
