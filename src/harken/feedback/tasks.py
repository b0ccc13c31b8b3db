"""Background work of feedback intake, on the tasks framework (`harken worker` runs it)."""

from __future__ import annotations

from django_tasks import task

from harken.core.audit import Actor, audit_context
from harken.core.choices import ActorType

from .signals import batch_changed


@task()
def import_batch(batch_id: int) -> str:
    """Run an import batch, then score the sentiment of its free text."""
    from .importing import run_import, score_sentiment
    from .models import ImportBatch

    batch = ImportBatch.objects.select_related("source", "file", "created_by").get(pk=batch_id)
    who = batch.created_by.get_username() if batch.created_by else "system"
    actor = Actor(
        type=ActorType.IMPORT, label=f"{batch.number} ({who})", user_id=batch.created_by_id
    )
    with audit_context(actor=actor):
        batch = run_import(batch)
        if batch.created_count and not batch.dry_run:
            score_sentiment(batch)
            batch_changed(batch)
    return batch.message


def enqueue_import(batch_id: int) -> None:
    """Queue the batch for the worker (or run it at once with the immediate backend)."""
    import_batch.enqueue(batch_id)
