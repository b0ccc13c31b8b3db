"""`harken adduser USERNAME --role ROLE`: a user with a role; the password comes on stdin."""

import sys
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from harken.core.choices import Role
from harken.core.management.base import HarkenCommand


class Command(HarkenCommand):
    help = "Create a user with a role; reads the password from standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("username")
        parser.add_argument("--role", action="append", required=True, choices=Role.values)
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        username = options["username"]
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} exists already.")
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise CommandError("Give the password on standard input (one line).")
        user = User(
            username=username,
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
        )
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(exc.messages)) from exc
        with transaction.atomic():
            user.set_password(password)
            user.is_staff = Role.ADMINISTRATOR in options["role"]
            user.save()
            groups = [Group.objects.get_or_create(name=role)[0] for role in options["role"]]
            user.groups.add(*groups)
        self.stdout.write(f"Created {username} ({', '.join(options['role'])}).")
