"""The base of Harken's commands: `--as USER` makes that person the actor of the run."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ..audit import Actor, audit_context


class HarkenCommand(BaseCommand):
    """A command whose changes are recorded as the `--as` user's, or as `cli:<command>`."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as",
            dest="as_user",
            metavar="USER",
            help="Record the changes as made by this user (default: the system).",
        )

    def execute(self, *args: Any, **options: Any) -> Any:
        actor = self.actor(options.get("as_user"))
        with audit_context(actor=actor, request_id=f"cli-{uuid.uuid4().hex[:24]}"):
            return super().execute(*args, **options)

    def actor(self, username: str | None) -> Actor:
        if not username:
            return Actor.system(f"cli:{self.command_name()}")
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"--as {username}: no active user has that username.")
        return Actor.for_user(user)

    def command_name(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]
