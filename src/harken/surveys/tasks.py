"""Background work of surveys, on the tasks framework (`harken worker` runs it)."""

from __future__ import annotations

from django_tasks import task

# Responses one round reads at a time (a chunk of them per transaction).
ROUND = 5000


@task()
def record_responses(response_ids: list[int]) -> int:
    """Turn submitted responses into feedback items: the ones named (the answers whose
    commit queued this task) and every other answer still waiting, oldest first, since
    submissions that find this task still queued add no task of their own
    (`services.queue_feedback`). The tick sweeps any left over."""
    from .services import record_pending

    done = record_pending(response_ids)  # first, so that older stuck answers never block them
    while True:
        recorded = record_pending(limit=ROUND)
        done += recorded
        if recorded < ROUND:
            return done
