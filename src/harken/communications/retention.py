"""The communication record types retention rules can govern (core/retention.py)."""

from __future__ import annotations

from typing import Any

from harken.core.choices import RetentionAction
from harken.core.retention import RecordType, register

from .models import Communication

PERSONAL_FIELDS: dict[str, Any] = {
    "subject": "",
    "body": "",
    "html_body": "",
    "from_address": "",
    "to_addresses": "",
    "cc_addresses": "",
    "triage_note": "",
}


def anonymise_communication(communication: Communication) -> list[str]:
    Communication.objects.filter(pk=communication.pk).update(**PERSONAL_FIELDS)
    # The link rows only, without the m2m signal: its audit entry would list the names.
    Communication.contacts.through.objects.filter(communication=communication).delete()
    return [*sorted(PERSONAL_FIELDS), "contacts", "raw message", "attachments"]


def stored_files(communication: Communication) -> list[Any]:
    return [
        communication.raw_message,
        *(attachment.file for attachment in communication.attachments.select_related("file")),
    ]


def register_record_types() -> None:
    register(
        RecordType(
            key="communications.communication",
            label="Communications",
            date_field="occurred_at",
            actions=(RetentionAction.REVIEW, RetentionAction.ANONYMISE, RetentionAction.DELETE),
            effects={
                RetentionAction.ANONYMISE: (
                    "Subject, bodies, addresses and triage note are cleared, the contacts "
                    "unlinked, and the raw message and attachments disposed of; customer, "
                    "channel, direction, time and links to records stay."
                ),
                RetentionAction.DELETE: (
                    "Anonymised, then deleted with its attachments and links, unless an "
                    "enquiry, order, notice or other record still refers to it."
                ),
            },
            anonymise=anonymise_communication,
            files=stored_files,
            owned=frozenset({"communications.attachment", "communications.communicationlink"}),
        ),
    )
