"""Tasks whose worker stopped mid-job are queued again, never lost and never doubled.

django-tasks' database worker marks a task RUNNING when it claims it and SUCCESSFUL or
FAILED when it ends. A worker killed in between (out of memory, a deploy, a power cut)
leaves the task RUNNING for ever. `harken worker` names itself `host:pid`; when a worker
starts, and on every `harken tick`, tasks RUNNING under a worker of this host whose
process no longer exists are put back to READY, with an audit event, and the next worker
runs them again. Harken's tasks are written to be run again safely: an import lands only
the rows still missing (de-duplication), recording survey answers skips those recorded.

Workers on other hosts are left alone: their processes cannot be seen from here (run
`harken tick` on each host that runs workers).
"""

from __future__ import annotations

import datetime as dt
import os
import socket

from . import audit


def host_name() -> str:
    return socket.gethostname()[:48]


def worker_id() -> str:
    """This process's worker id: `host:pid` (django-tasks allows up to 64 characters)."""
    return f"{host_name()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def requeue_orphans(now: dt.datetime | None = None) -> str:
    """Put the tasks of this host's stopped workers back in the queue."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    host = host_name()
    requeued = 0
    for result in DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).only(
        "id", "task_path", "worker_ids"
    ):
        ids = result.worker_ids or []
        last = str(ids[-1]) if ids else ""
        name, _, pid = last.rpartition(":")
        if name != host or not pid.isdigit() or process_alive(int(pid)):
            continue
        moved = DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None
        )
        if moved:
            requeued += 1
            audit.record(
                "task.requeued",
                object_type="",
                object_label=result.task_path[:255],
                changes={"task": str(result.id), "stopped_worker": last},
            )
    return f"{requeued} tasks of stopped workers queued again"
