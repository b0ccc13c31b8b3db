"""The feedback record types retention rules can govern (core/retention.py)."""

from __future__ import annotations

from typing import Any

from harken.core.choices import RetentionAction
from harken.core.retention import RecordType, register

from .models import FeedbackItem

# Personal data an item may hold; kind, dates, category, impact, scores and customer stay
# so that the statistics and rollups do not change.
ITEM_PERSONAL_FIELDS: dict[str, Any] = {
    "title": "",
    "text": "",
    "raw": {},
    "contact": None,
    "external_id": "",
}


def anonymise_item(item: FeedbackItem) -> list[str]:
    FeedbackItem.objects.filter(pk=item.pk).update(**ITEM_PERSONAL_FIELDS)
    return sorted(ITEM_PERSONAL_FIELDS)


def keep_batch(batch: Any) -> None:
    """The batch record (counts, mapping, who and when) stays; only its original goes."""


def register_record_types() -> None:
    register(
        RecordType(
            key="feedback.feedbackitem",
            label="Feedback items",
            date_field="received_at",
            actions=(RetentionAction.REVIEW, RetentionAction.ANONYMISE, RetentionAction.DELETE),
            effects={
                RetentionAction.ANONYMISE: (
                    "Title, verbatim text, original record, contact and source-system id are "
                    "cleared; kind, dates, category, impact, scores and customer stay, so the "
                    "statistics do not change."
                ),
                RetentionAction.DELETE: (
                    "Anonymised, then deleted, unless an action, theme or survey response still "
                    "refers to it; the rollups are recounted."
                ),
            },
            anonymise=anonymise_item,
        ),
        RecordType(
            key="feedback.importbatch",
            label="Import originals",
            date_field="created_at",
            actions=(RetentionAction.REVIEW, RetentionAction.DELETE),
            effects={
                RetentionAction.DELETE: (
                    "The uploaded file and the rejected-rows file are removed; the batch record "
                    "(counts, mapping, who and when) and the items it created stay."
                ),
            },
            files=lambda batch: [batch.file, batch.rejects_file],
            delete=keep_batch,
        ),
    )
