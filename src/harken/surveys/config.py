"""Survey settings read from the environment (docs/surveys.md lists them).

Read at call time, not at start-up, so a changed variable takes effect on the next
send and tests can set them.
"""

from __future__ import annotations

from harken.settings import env, env_int


def public_url() -> str:
    """The address customers reach Harken at, for the links in e-mails (no trailing slash)."""
    return (env("PUBLIC_URL", "") or "http://localhost:8000").rstrip("/")


def throttle_days() -> int:
    """A contact is invited to no more than one survey in this many days (0: no limit)."""
    return max(0, env_int("SURVEY_THROTTLE_DAYS", 30))


def open_link_limit() -> int:
    """Answers one address may give to one open-link survey per hour."""
    return max(1, env_int("SURVEY_OPEN_LINK_PER_HOUR", 5))


def retry_minutes() -> int:
    """The first wait before a failed invitation is tried again (doubling, at most a day)."""
    return max(1, env_int("SURVEY_RETRY_MINUTES", 10))


def send_batch() -> int:
    """Invitations sent over one SMTP connection per run of the sender."""
    return max(1, env_int("SURVEY_SEND_BATCH", 200))
