"""`harken resetfactor USERNAME`: remove a person's second factor (lost phone)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser

from harken.accounts import sessions, twofactor
from harken.core.management.base import HarkenCommand


class Command(HarkenCommand):
    help = "Remove USERNAME's authenticator app and recovery codes, and end their sessions."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user is named {options['username']!r}.")
        if not twofactor.remove(user, reason="reset by an administrator"):
            raise CommandError(f"{user.username} has no second factor.")
        ended = sessions.end_sessions(user, keep=None, reason="second factor reset")
        self.stdout.write(
            f"Removed {user.username}'s second factor and ended {ended} session(s); "
            "they set up a new app at their next sign-in."
        )
