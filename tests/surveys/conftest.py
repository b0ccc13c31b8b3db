"""A real SMTP server for the survey tests (aiosmtpd on a loopback port), and the settings
that point Django's SMTP backend at it."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import pytest


@dataclass
class Mailbox:
    """What the server received: one parsed message per delivery, with its envelope."""

    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def text_of(self, index: int = -1) -> str:
        message = self.messages[index]
        for part in message.walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                return payload.decode(part.get_content_charset() or "utf-8")
        raise AssertionError("no text part")

    def html_of(self, index: int = -1) -> str:
        message = self.messages[index]
        for part in message.walk():
            if part.get_content_type() == "text/html":
                payload = part.get_payload(decode=True)
                return payload.decode(part.get_content_charset() or "utf-8")
        raise AssertionError("no HTML part")


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() in self.box.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.box.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.box.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    port: int
    box: Mailbox
    controller: Any = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(_Handler(self.box), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_settings(settings: Any, smtp_port: int) -> Any:
    """Django's real SMTP backend aimed at a loopback port (nothing listens yet)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "surveys@harken-company.example"
    return settings


@pytest.fixture
def smtp_server(smtp_settings: Any, smtp_port: int) -> Iterator[SmtpServer]:
    """A real SMTP server on loopback that keeps what it receives."""
    pytest.importorskip("aiosmtpd")
    server = SmtpServer(smtp_port, Mailbox())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def public_url(monkeypatch: Any) -> str:
    monkeypatch.setenv("HARKEN_PUBLIC_URL", "https://harken.test")
    return "https://harken.test"


@pytest.fixture(autouse=True)
def quiet_smtp_log() -> Iterator[None]:
    import logging

    logger = logging.getLogger("mail.log")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)
