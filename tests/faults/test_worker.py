"""A worker killed mid-job: its task is queued again and run once more, and what it did
before it died is not doubled."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from django.core.management import call_command
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from tests.faults.test_faults import FILE, OPTIONS, ROWS
from tests.feedback.factories import PerceptionSourceFactory

from harken.core.models import AuditEvent
from harken.core.registry import registry
from harken.core.workers import host_name, process_alive, requeue_orphans
from harken.feedback.importing import create_batch, run_import
from harken.feedback.models import FeedbackItem
from harken.feedback.tasks import import_batch

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def dead_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_alive(child.pid)
    return child.pid


def test_the_task_of_a_killed_worker_is_run_again_once(settings):
    settings.TASKS = DATABASE_TASKS
    source = PerceptionSourceFactory(name="Exports")
    batch = create_batch(source=source, upload=io.BytesIO(FILE), name="e.csv", options=OPTIONS)
    result = import_batch.enqueue(batch.pk)
    task = DBTaskResult.objects.get(id=result.id)
    # A worker of this host claimed it, wrote the rows, and was killed before it could
    # mark the task done.
    task.claim(f"{host_name()}:{dead_pid()}")
    run_import(batch, parallel=False)
    assert FeedbackItem.objects.count() == ROWS

    # A worker elsewhere, or one still alive here, is left alone.
    alive = DBTaskResult.objects.get(id=import_batch.enqueue(batch.pk).id)
    alive.claim(f"{host_name()}:1")  # init: always alive
    remote = DBTaskResult.objects.get(id=import_batch.enqueue(batch.pk).id)
    remote.claim("another-host:4242")

    assert ("tasks of stopped workers", requeue_orphans) in registry.tick
    assert requeue_orphans() == "1 tasks of stopped workers queued again"
    task.refresh_from_db()
    assert task.status == TaskResultStatus.READY
    event = AuditEvent.objects.get(action="task.requeued")
    assert event.changes["task"] == str(task.id)
    assert {r.status for r in (alive, remote)} == {TaskResultStatus.RUNNING}
    assert DBTaskResult.objects.get(id=alive.id).status == TaskResultStatus.RUNNING

    # The next worker runs it again: the rows already written are not doubled.
    DBTaskResult.objects.filter(id__in=[alive.id, remote.id]).delete()
    call_command("worker", "--batch", stdout=io.StringIO())
    task.refresh_from_db()
    assert task.status == TaskResultStatus.SUCCESSFUL
    assert task.worker_ids[-1].startswith(f"{host_name()}:")
    assert FeedbackItem.objects.count() == ROWS
    assert requeue_orphans() == "0 tasks of stopped workers queued again"
