"""`harken serve`: the production server (gunicorn, static files through WhiteNoise)."""

import os
import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


def static_files_changed() -> bool:
    """Whether any static file is newer than the last collected manifest (collecting and
    compressing every file again takes several seconds, so `serve` skips it when it can)."""
    from pathlib import Path

    from django.contrib.staticfiles.finders import get_finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    collected = manifest.stat().st_mtime
    for finder in get_finders():
        for path, storage in finder.list([]):
            if Path(storage.path(path)).stat().st_mtime > collected:
                return True
    return False


class Command(BaseCommand):
    help = "Serve Harken with gunicorn (the same command `make run` uses)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HARKEN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HARKEN_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("HARKEN_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("HARKEN_THREADS", "4"))
        )
        parser.add_argument(
            "--worker-nice",
            type=int,
            default=int(os.environ.get("HARKEN_WORKER_NICE", "10")),
            help="CPU priority of the task worker below the server's (0: the same).",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start a background task worker beside the server (run `harken worker`).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if static_files_changed():
            call_command("collectstatic", interactive=False, verbosity=0)
        bind = f"{options['host']}:{options['port']}"
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(f"Harken on http://{bind}/ (database: {engine})")
        self.stdout.flush()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "harken.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            os.environ.get("HARKEN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
        backend = str(settings.TASKS["default"]["BACKEND"])
        if options["no_worker"] or backend.endswith("ImmediateBackend"):
            os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server
        # One machine, one command: the task worker runs beside the server and stops with it.
        # It runs at a lower CPU priority: people waiting for a page come first, and the
        # worker's backlog (answers becoming feedback items, imports) catches up whenever
        # the server leaves a core idle. On a machine of its own it runs at full speed.
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter and command, an int
            [sys.executable, "-m", "harken", "worker", "--nice", str(options["worker_nice"])]
        )
        server = subprocess.Popen(argv)  # noqa: S603
        try:
            server.wait()
        except KeyboardInterrupt:
            server.send_signal(signal.SIGTERM)
            server.wait()
        finally:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        raise SystemExit(server.returncode)
