"""Mail intake under generated input: any bytes are read without an exception, a message a
mail client writes reads back field by field, HTML comes out without anything that runs, and
any message lands in the communication log (filed, or in triage with its reasons)."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from email.utils import format_datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.communications.factories import mail

from harken.communications.models import Communication
from harken.communications.parsing import ParsedMessage, parse_message, thread_subject
from harken.communications.sanitise import html_to_text, sanitise_html
from harken.communications.services import ingest_message

LIMIT = 1024 * 1024
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TEMPLATE = mail(
    subject="=?utf-8?q?Gr=C3=BC=C3=9Fe?= about order 4411",
    html="<p>Hello <b>there</b></p>",
    attachments=(("report.pdf", b"%PDF-1.4 tiny", "application/pdf"),),
)


def well_formed(parsed: ParsedMessage) -> None:
    for text in (parsed.subject, parsed.text, parsed.html, parsed.from_address):
        assert isinstance(text, str)
    assert all(isinstance(problem, str) and problem for problem in parsed.problems)
    assert parsed.date is None or parsed.date.tzinfo is not None


@given(st.binary(max_size=2000))
@FAST
def test_any_bytes_are_read_without_an_exception(raw: bytes) -> None:
    well_formed(parse_message(raw, max_attachment=LIMIT))


@given(st.data())
@FAST
def test_a_damaged_real_message_is_read_without_an_exception(data: st.DataObject) -> None:
    raw = bytearray(TEMPLATE)
    for _ in range(data.draw(st.integers(min_value=1, max_value=12))):
        where = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            raw[where] = data.draw(st.integers(min_value=0, max_value=255))
        elif action == "cut":
            del raw[where : where + data.draw(st.integers(min_value=1, max_value=40))]
        else:
            raw[where:where] = data.draw(st.sampled_from([b"\r\n", b"\x00", b"--", b"=?", b":"]))
        if not raw:
            break
    well_formed(parse_message(bytes(raw), max_attachment=LIMIT))


SUBJECT = (
    st.text(
        alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp", "Cf", "Co", "Cn"]),
        min_size=1,
        max_size=60,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)
BODY = st.text(
    alphabet=st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp", "Co", "Cn"]) | st.just("\n"),
    min_size=1,
    max_size=300,
).filter(lambda s: s.strip())
LOCAL = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,10}[a-z0-9]\Z")
DOMAIN = st.from_regex(r"\A[a-z0-9]{1,10}\.(example|test|com|de)\Z")


@given(
    SUBJECT,
    BODY,
    LOCAL,
    DOMAIN,
    st.lists(st.binary(max_size=300), max_size=3),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)),
)
@FAST
def test_a_message_a_mail_client_writes_reads_back(
    subject: str,
    body: str,
    local: str,
    domain: str,
    files: list[bytes],
    moment: dt.datetime,
) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = f"Sender <{local}@{domain}>"
    message["To"] = "inbox@harken-company.example"
    message["Date"] = format_datetime(moment.replace(microsecond=0, tzinfo=dt.UTC))
    message["Message-ID"] = f"<{local}.1@{domain}>"
    message.set_content(body)
    for number, data in enumerate(files, start=1):
        message.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=f"file-{number}.bin"
        )

    parsed = parse_message(bytes(message), max_attachment=LIMIT)
    assert parsed.problems == []
    assert parsed.subject == subject
    assert parsed.from_address == f"{local}@{domain}"
    assert parsed.to == ["inbox@harken-company.example"]
    assert parsed.message_id == f"<{local}.1@{domain}>"
    assert parsed.date == moment.replace(microsecond=0, tzinfo=dt.UTC)
    assert parsed.text.rstrip("\n") == body.replace("\r\n", "\n").rstrip("\n")
    assert [(a.name, a.data) for a in parsed.attachments] == [
        (f"file-{n}.bin", data) for n, data in enumerate(files, start=1)
    ]
    assert thread_subject(f"Re: {parsed.subject}") == thread_subject(parsed.subject)


DANGER = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<img src="https://tracker.example/p.gif">',
        '<a href="javascript:alert(1)">x</a>',
        '<div onclick="alert(1)">x</div>',
        "<style>body{display:none}</style>",
        '<iframe src="https://evil.example"></iframe>',
        "<svg onload=alert(1)>",
        '<a href="JaVaScRiPt:alert(1)">y</a>',
        "<!-- <script>alert(1)</script> -->",
    ]
)


@given(st.lists(st.one_of(DANGER, st.text(max_size=30)), max_size=8))
@FAST
def test_sanitised_html_never_carries_anything_that_runs(parts: list[str]) -> None:
    markup = "".join(parts)
    clean = sanitise_html(markup).lower()
    assert "<script" not in clean
    assert "<style" not in clean
    assert "<iframe" not in clean
    assert "<img" not in clean
    assert "<svg" not in clean
    assert "javascript:" not in clean
    assert not re.search(r"<[^>]*\son\w+\s*=", clean)
    assert isinstance(html_to_text(markup), str)


@pytest.mark.django_db
@given(st.one_of(st.binary(max_size=600), st.just(TEMPLATE)), st.booleans())
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_message_lands_in_the_log_and_twice_is_once(raw: bytes, nul: bool) -> None:
    if nul:
        raw = raw.replace(b"\r\n\r\n", b"\r\n\r\nNUL \x00 inside\r\n", 1) + b"\x00tail"
        raw = raw.replace(
            b"Message-ID: <", b"References: <a\x00b@x.example> c\x00d\r\nMessage-ID: <"
        )
        raw = raw.replace(b'filename="report.pdf"', b'filename="re\x00port.pdf"')
    with transaction.atomic():  # each example on its own: rolled back at the end
        first = ingest_message(raw)
        again = ingest_message(raw)
        assert (first.created, again.created) == (True, False)
        assert again.communication.pk == first.communication.pk
        assert Communication.objects.count() == 1
        stored = Communication.objects.get(pk=first.communication.pk)
        assert stored.status in ("filed", "triage")
        texts = [stored.subject, stored.body, stored.html_body, stored.references]
        texts += [stored.from_address, stored.to_addresses, stored.in_reply_to]
        texts += [attachment.name for attachment in stored.attachments.all()]
        assert "\x00" not in "".join(texts)
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_a_message_with_nul_characters_is_filed_without_them() -> None:
    # Regression: PostgreSQL refuses NUL in text, so such a message could not be filed.
    raw = mail(subject="Order\x00 4411", body="Parts\x00 arrived", message_id="<nul@x.example>")
    raw = raw.replace(b"Message-ID:", b"References: <a\x00b@x.example>\r\nMessage-ID:")
    stored = ingest_message(raw).communication
    stored.refresh_from_db()
    assert (stored.subject, stored.body.strip(), stored.references) == (
        "Order 4411",
        "Parts arrived",
        "",
    )
    assert "The message holds NUL characters; they were left out of its text." in stored.problems
