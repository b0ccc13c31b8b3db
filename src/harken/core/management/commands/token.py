"""`harken token USERNAME`: create or show a user's API key."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from rest_framework.authtoken.models import Token

from harken.core import audit
from harken.core.management.base import HarkenCommand


class Command(HarkenCommand):
    help = "Print USERNAME's API token, creating it (or a new one with --rotate)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Replace the existing key.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user is named {options['username']!r}.")
        if options["rotate"]:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        if created:
            audit.record("user.token_issued", user, changes={"rotated": options["rotate"]})
        self.stdout.write(token.key)
