"""Reading raw e-mail and sanitising HTML, without Django: every problem named, nothing raised."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.communications.factories import mail

from harken.communications.parsing import (
    is_mbox,
    message_ids,
    parse_message,
    thread_subject,
)
from harken.communications.sanitise import html_to_text, sanitise_html

LIMIT = 20 * 1024 * 1024


def test_a_plain_message_is_read_with_its_ids_addresses_and_date():
    raw = mail(
        subject="Re: Flange order 4411",
        sender='"Maria Novak" <Maria.Novak@Customer.example>',
        to="sales@harken-company.example, Quinn <quality@harken-company.example>",
        message_id="<reply-2@customer.example>",
        in_reply_to="<first-1@harken-company.example>",
        references="<first-1@harken-company.example> <other@x.example>",
        date=dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC),
        body="Thanks, that works.",
    )
    parsed = parse_message(raw, max_attachment=LIMIT)
    assert parsed.problems == []
    assert parsed.message_id == "<reply-2@customer.example>"
    assert parsed.in_reply_to == "<first-1@harken-company.example>"
    assert parsed.parent_ids == ["<first-1@harken-company.example>", "<other@x.example>"]
    assert (parsed.from_name, parsed.from_address) == (
        "Maria Novak",
        "maria.novak@customer.example",
    )
    assert parsed.to == ["sales@harken-company.example", "quality@harken-company.example"]
    assert parsed.date == dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    assert parsed.text.strip() == "Thanks, that works."
    assert thread_subject(parsed.subject) == "Flange order 4411"


def test_a_message_without_sender_says_so():
    parsed = parse_message(mail(sender=""), max_attachment=LIMIT)
    assert parsed.from_address == ""
    assert parsed.problems == ["No sender: the From header is missing or holds no address."]


def test_an_unknown_charset_is_read_and_named():
    raw = (
        b"From: a@customer.example\r\nTo: b@harken-company.example\r\nSubject: Odd\r\n"
        b"Message-ID: <odd@customer.example>\r\nDate: Mon, 5 Jan 2026 10:00:00 +0000\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-klingon-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\nStra\xdfe und Gr\xfc\xdfe\r\n"
    )
    parsed = parse_message(raw, max_attachment=LIMIT)
    assert parsed.text.strip() == "Straße und Grüße"
    assert parsed.problems == [
        "The text/plain part declares the unknown character set 'x-klingon-8': it was read "
        "as UTF-8 where that fits and as Latin-1 otherwise; check the text."
    ]


def test_broken_mime_is_named_and_what_can_be_read_is_kept():
    raw = (
        b"From: a@customer.example\r\nSubject: Cut off\r\nMessage-ID: <cut@customer.example>\r\n"
        b"Date: Mon, 5 Jan 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n'
        b"--XYZ\r\nContent-Type: text/plain\r\n\r\nThe first part survived.\r\n"
        b"--XYZ\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="drawing.pdf"\r\n\r\nJVBERi0xLjQK%%%\r\n'
    )
    parsed = parse_message(raw, max_attachment=LIMIT)
    assert parsed.text.strip() == "The first part survived."
    assert [a.name for a in parsed.attachments] == ["drawing.pdf"]
    assert len(parsed.problems) == 1
    assert parsed.problems[0].startswith("Broken MIME structure: ")
    assert "the closing multipart boundary is missing" in parsed.problems[0]


def test_a_multipart_message_whose_boundary_never_appears_is_named():
    raw = (
        b"From: a@customer.example\r\nSubject: No boundary\r\n"
        b"Message-ID: <nb@customer.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/alternative; boundary="never"\r\n\r\nJust text.\r\n'
    )
    parsed = parse_message(raw, max_attachment=LIMIT)
    assert any("the multipart boundary never appears" in p for p in parsed.problems)


def test_an_attachment_over_the_limit_is_listed_but_not_extracted():
    raw = mail(attachments=(("big.bin", b"\0" * 3000, "application/octet-stream"),))
    parsed = parse_message(raw, max_attachment=2000)
    assert [(a.name, a.size, a.data) for a in parsed.attachments] == [("big.bin", 3000, None)]
    assert parsed.problems == [
        "The attachment 'big.bin' is 0.0 MB, over the 0 MB limit: it was not extracted "
        "(it stays in the original message, which is kept)."
    ]


def test_garbage_never_raises():
    for raw in (b"", b"\xff\xfe\x00garbage", b"Subject: only\r\n", b"From: \r\n\r\n" * 3):
        parsed = parse_message(raw, max_attachment=LIMIT)
        assert isinstance(parsed.problems, list)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<a@b>", ["<a@b>"]),
        ("<a@b> <c@d>", ["<a@b>", "<c@d>"]),
        ("a@b", ["<a@b>"]),
        ("", []),
        ("not an id at all", []),
    ],
)
def test_message_ids_are_read_from_headers(value, expected):
    assert message_ids(value) == expected


def test_an_mbox_is_told_from_an_eml():
    assert is_mbox(b"From someone@example Mon Jan  5 10:00:00 2026\nSubject: x")
    assert not is_mbox(b"From: someone@example\nSubject: x")


def test_html_with_scripts_is_sanitised():
    markup = (
        '<p onclick="steal()">Hello <b>there</b><script>alert(document.cookie)</script></p>'
        '<a href="javascript:alert(1)">click</a> <a href="https://example.com/x">site</a>'
        '<img src="https://tracker.example/pixel.gif"><style>body{display:none}</style>'
        '<iframe src="https://evil.example"></iframe>'
    )
    clean = sanitise_html(markup)
    for gone in ("script", "onclick", "javascript:", "<img", "tracker", "<style", "<iframe"):
        assert gone not in clean
    assert "<b>there</b>" in clean
    assert '<a href="https://example.com/x" rel="noopener noreferrer nofollow">site</a>' in clean


def test_html_only_mail_gets_a_readable_text():
    text = html_to_text("<p>Dear team,</p><p>The <b>parts</b>&nbsp;arrived.<br>Thanks</p>")
    assert text == "Dear team,\nThe parts arrived.\nThanks"
