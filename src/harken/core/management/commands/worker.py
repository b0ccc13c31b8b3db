"""`harken worker`: the background task worker (django-tasks' database worker)."""

import os
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from harken.core.audit import Actor, audit_context
from harken.core.workers import requeue_orphans, worker_id


class Command(BaseCommand):
    help = "Run the background task worker until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="default")
        parser.add_argument("--batch", action="store_true", help="Stop when the queue is empty.")
        parser.add_argument(
            "--nice",
            type=int,
            default=0,
            help="Run at this much lower CPU priority (as nice(1)); `harken serve` passes 10.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["nice"] > 0:
            os.nice(options["nice"])
        # Tasks a stopped worker of this host left half-done are run again first.
        with audit_context(actor=Actor.system("worker")):
            self.stdout.write(requeue_orphans())
        extra = ["--batch"] if options["batch"] else []
        call_command(
            "db_worker", "--queue-name", options["queue_name"], "--worker-id", worker_id(), *extra
        )
