"""Background work of surveys, on the tasks framework (`harken worker` runs it)."""

from __future__ import annotations

from django_tasks import task


@task()
def record_responses(response_ids: list[int]) -> int:
    """Turn submitted responses into feedback items (the tick sweeps any left over)."""
    from .services import record_pending

    return record_pending(response_ids)
