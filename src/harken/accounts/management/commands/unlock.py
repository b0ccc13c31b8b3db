"""`harken unlock NAME`: end the lock-out of a username or a client address now."""

from typing import Any

from django.core.management.base import CommandError, CommandParser

from harken.accounts import throttle
from harken.core.management.base import HarkenCommand


class Command(HarkenCommand):
    help = "End the active lock-out of a username or a client address (recorded)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("name", help="A username or an IP address.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("Give a username or an IP address.")
        ended = throttle.unlock(name)
        if not ended:
            raise CommandError(f"{name!r} is not locked out.")
        self.stdout.write(f"Unlocked {name} ({ended} lock-out(s) ended).")
