"""Reading e-mail: one raw message into the fields Harken keeps, with each problem named.

Plain Python, no Django. Nothing here raises on bad input: a message with a broken
MIME structure, an unknown character set, a damaged header or no sender comes back
with what could be read and a list of `problems` in words a person can act on. The
caller keeps the raw bytes as evidence whatever happens.
"""

from __future__ import annotations

import codecs
import datetime as dt
import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors, policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

ID = re.compile(r"<[^<>\s\x00]+>")
ADDRESS = re.compile(r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")

# Structural defects of the MIME tree, in words (header niceties are left out: real
# mail is full of obsolete but readable headers).
DEFECTS: dict[type[errors.MessageDefect], str] = {
    errors.NoBoundaryInMultipartDefect: "a multipart part declares no boundary",
    errors.StartBoundaryNotFoundDefect: "the multipart boundary never appears in the body",
    errors.CloseBoundaryNotFoundDefect: "the closing multipart boundary is missing "
    "(the message may be cut off)",
    errors.MultipartInvariantViolationDefect: "a multipart part holds no parts",
    errors.FirstHeaderLineIsContinuationDefect: "the header block starts with a continuation",
    errors.MisplacedEnvelopeHeaderDefect: "an envelope line sits inside the headers",
    errors.MissingHeaderBodySeparatorDefect: "the blank line between headers and body is missing",
    errors.InvalidBase64PaddingDefect: "base64 content has wrong padding",
    errors.InvalidBase64CharactersDefect: "base64 content holds invalid characters",
    errors.InvalidBase64LengthDefect: "base64 content has an impossible length",
}


@dataclass
class ParsedAttachment:
    """A part kept as a file; `data` is None when it was over the size limit."""

    name: str
    content_type: str
    size: int
    data: bytes | None


@dataclass
class ParsedMessage:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: dt.datetime | None = None
    subject: str = ""
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def parent_ids(self) -> list[str]:
        """The ids of the messages this one answers, nearest first, without repeats."""
        ids = [self.in_reply_to, *reversed(self.references)]
        return list(dict.fromkeys(i for i in ids if i))

    def problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)


def parse_message(raw: bytes, *, max_attachment: int) -> ParsedMessage:
    """Read one RFC 5322 message. Never raises; problems are listed on the result."""
    parsed = ParsedMessage()
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser is lenient; this is the last guard
        parsed.subject = "(unreadable message)"
        parsed.problem(f"The message could not be read at all ({type(exc).__name__}: {exc}).")
        return parsed
    _read_headers(message, parsed)
    try:
        _read_parts(message, parsed, max_attachment)
    except Exception as exc:  # a structure no reader foresaw: keep what was read
        parsed.problem(f"Part of the message could not be read ({type(exc).__name__}: {exc}).")
    _read_defects(message, parsed)
    _drop_nul(parsed)
    return parsed


def _drop_nul(parsed: ParsedMessage) -> None:
    """Remove NUL characters from the text fields: PostgreSQL cannot store them in text, and
    they carry nothing a reader sees (the raw message keeps them as evidence)."""
    names = "".join(attachment.name for attachment in parsed.attachments)
    if "\x00" in parsed.subject + parsed.text + parsed.html + parsed.from_name + names:
        parsed.subject = parsed.subject.replace("\x00", "")
        parsed.text = parsed.text.replace("\x00", "")
        parsed.html = parsed.html.replace("\x00", "")
        parsed.from_name = parsed.from_name.replace("\x00", "")
        for attachment in parsed.attachments:
            attachment.name = attachment.name.replace("\x00", "")
        parsed.problem("The message holds NUL characters; they were left out of its text.")


def header(message: Message, name: str) -> str:
    """A header's decoded text; a header the parser chokes on is decoded from its raw form."""
    try:
        value = message.get(name)
        return "" if value is None else str(value).strip()
    except Exception:  # malformed encoded words, bad address syntax…
        for key, raw in message.raw_items():
            if key.lower() == name.lower():
                return decode_raw_header(str(raw))
        return ""


def decode_raw_header(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw))).strip()
    except Exception:
        return raw.strip()


def message_ids(value: str) -> list[str]:
    """The `<id>` tokens of a Message-ID, In-Reply-To or References header."""
    found = ID.findall(value or "")
    if not found and value and value.strip() and " " not in value.strip() and "\x00" not in value:
        found = [f"<{value.strip().strip('<>')}>"]
    return found


def _read_headers(message: Message, parsed: ParsedMessage) -> None:
    ids = message_ids(header(message, "Message-ID"))
    parsed.message_id = ids[0] if ids else ""
    replies = message_ids(header(message, "In-Reply-To"))
    parsed.in_reply_to = replies[0] if replies else ""
    parsed.references = message_ids(header(message, "References"))
    parsed.subject = header(message, "Subject").replace("\r", "").replace("\n", " ")

    name, address = parseaddr(header(message, "From"))
    address = address.strip().lower()
    if address and ADDRESS.match(address):
        parsed.from_name, parsed.from_address = name.strip(), address
    elif address:
        parsed.from_name = name.strip()
        parsed.problem(f"The sender {address!r} is not an e-mail address.")
    else:
        parsed.problem("No sender: the From header is missing or holds no address.")
    parsed.to = _addresses(header(message, "To"))
    parsed.cc = _addresses(header(message, "Cc"))

    raw_date = header(message, "Date")
    if raw_date:
        try:
            date = parsedate_to_datetime(raw_date)
        except (TypeError, ValueError, IndexError):
            parsed.problem(f"The Date header {raw_date!r} is not a date.")
        else:
            parsed.date = date if date.tzinfo else date.replace(tzinfo=dt.UTC)


def _addresses(value: str) -> list[str]:
    if not value:
        return []
    found = []
    for _name, address in getaddresses([value]):
        address = address.strip().lower()
        if address and ADDRESS.match(address) and address not in found:
            found.append(address)
    return found


def _read_parts(message: Message, parsed: ParsedMessage, max_attachment: int) -> None:
    number = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        number += 1
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        is_body_text = content_type in {"text/plain", "text/html"} and disposition != "attachment"
        if is_body_text and not filename:
            if content_type == "text/plain" and not parsed.text:
                parsed.text = _decode_text(part, parsed)
                continue
            if content_type == "text/html" and not parsed.html:
                parsed.html = _decode_text(part, parsed)
                continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        name = (filename or "").strip() or f"part-{number}{_extension(content_type)}"
        if len(data) > max_attachment:
            parsed.problem(
                f"The attachment {name!r} is {len(data) / (1024 * 1024):.1f} MB, over the "
                f"{max_attachment // (1024 * 1024)} MB limit: it was not extracted (it stays "
                "in the original message, which is kept)."
            )
            parsed.attachments.append(ParsedAttachment(name, content_type, len(data), None))
        else:
            parsed.attachments.append(ParsedAttachment(name, content_type, len(data), data))


def _extension(content_type: str) -> str:
    return {
        "text/plain": ".txt",
        "text/html": ".html",
        "message/rfc822": ".eml",
        "application/pdf": ".pdf",
        "image/png": ".png",
        "image/jpeg": ".jpg",
    }.get(content_type, ".bin")


def _decode_text(part: Message, parsed: ParsedMessage) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "us-ascii"
    kind = part.get_content_type()
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        parsed.problem(
            f"The {kind} part declares the unknown character set {charset!r}: it was read "
            "as UTF-8 where that fits and as Latin-1 otherwise; check the text."
        )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        if codec == "ascii":
            try:  # undeclared 8-bit UTF-8 is common and harmless
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        parsed.problem(
            f"The {kind} part is not valid {charset}: the characters that did not fit "
            "were replaced."
        )
        return data.decode(codec, errors="replace")


def _read_defects(message: Message, parsed: ParsedMessage) -> None:
    found = []
    for part in message.walk():
        for defect in getattr(part, "defects", []):
            for kind, words in DEFECTS.items():
                if isinstance(defect, kind) and words not in found:
                    found.append(words)
    if found:
        parsed.problem("Broken MIME structure: " + "; ".join(found) + ".")


# --------------------------------------------------------------------------------------
# Files of messages: one .eml, or an mbox archive
# --------------------------------------------------------------------------------------


def is_mbox(head: bytes) -> bool:
    """An mbox archive starts with a `From ` envelope line; an .eml starts with headers."""
    return head.lstrip(b"\r\n").startswith(b"From ")


def iter_mbox(path: Path) -> Iterator[bytes]:
    """The raw messages of an mbox archive, one at a time (the archive is not loaded whole)."""
    box = mailbox.mbox(str(path), create=False)
    try:
        for key in box.iterkeys():
            yield box.get_bytes(key)
    finally:
        box.close()


def thread_subject(subject: str) -> str:
    """The subject a thread goes by: without the Re:/Fwd:/AW: prefixes replies add."""
    cleaned = subject.strip()
    prefix = re.compile(r"^(re|fw|fwd|aw|wg|sv|vs|antw)\s*(\[\d+\])?\s*:\s*", re.IGNORECASE)
    while True:
        shorter = prefix.sub("", cleaned, count=1)
        if shorter == cleaned:
            return cleaned
        cleaned = shorter.strip()
