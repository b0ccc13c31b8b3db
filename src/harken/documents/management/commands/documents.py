"""`harken documents distribute|holders`: record a copy given to a customer; list holders."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from harken.core.audit import current_actor
from harken.core.management.base import HarkenCommand
from harken.customers.models import Contact, Customer
from harken.documents import services
from harken.documents.choices import Occasion
from harken.documents.models import DocumentVersion


def accept_as_after_verb(parser: CommandParser) -> None:
    """`harken documents distribute … --as USER` as well as `harken documents --as USER …`.

    SUPPRESS keeps the sub-command from overwriting a `--as` given before it.
    """
    parser.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS)


def find_version(ref: str) -> DocumentVersion:
    """`DOC-2026-0001:2.0` (number and label) or a version's id."""
    ref = ref.strip()
    versions = DocumentVersion.objects.select_related("document")
    if ref.isdigit():
        found = versions.filter(pk=int(ref)).first()
    else:
        number, sep, label = ref.rpartition(":")
        if not sep:
            raise CommandError(f"--version {ref!r}: use DOC-NUMBER:LABEL or the version's id.")
        found = versions.filter(document__number__iexact=number, label__iexact=label).first()
    if found is None:
        raise CommandError(f"No document version matches {ref!r}.")
    return found


class Command(HarkenCommand):
    help = "Record a copy of a document version given to a customer, or list who holds one."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="verb", required=True)
        give = sub.add_parser("distribute", help="Record that a customer was given a version.")
        give.add_argument("--version", required=True, help="DOC-NUMBER:LABEL or version id.")
        give.add_argument("--customer", required=True, help="Customer number or id.")
        give.add_argument("--contact", help="The contact's e-mail.")
        give.add_argument("--reason", required=True, help="Why the customer was given it.")
        give.add_argument(
            "--occasion",
            default=Occasion.BY_HAND,
            choices=[Occasion.BY_HAND, Occasion.QUOTE, Occasion.ORDER],
        )
        give.add_argument("--reference", default="", help="Quote or order number.")
        give.add_argument("--at", help="When (ISO 8601); default now.")
        holders = sub.add_parser("holders", help="Customers whose latest copy is this version.")
        holders.add_argument("version", help="DOC-NUMBER:LABEL or version id.")
        for verb in (give, holders):
            accept_as_after_verb(verb)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "holders":
            version = find_version(options["version"])
            rows = list(services.holders(version))
            for d in rows:
                email = f" ({d.contact.email})" if d.contact and d.contact.email else ""
                self.stdout.write(
                    f"{d.customer.number}  {d.customer.name}{email}  since "
                    f"{d.distributed_at:%Y-%m-%d}  {d.number}"
                )
            self.stdout.write(f"{len(rows)} customers hold {version} ({version.status}).")
            return
        version = find_version(options["version"])
        ref = options["customer"].strip()
        customer = (
            Customer.objects.filter(pk=int(ref)).first()
            if ref.isdigit()
            else Customer.objects.filter(number__iexact=ref).first()
        )
        if customer is None:
            raise CommandError(f"No customer matches {ref!r}.")
        contact = None
        if options.get("contact"):
            contact = Contact.objects.filter(
                customer=customer, email__iexact=options["contact"]
            ).first()
            if contact is None:
                raise CommandError(f"{customer} has no contact {options['contact']!r}.")
        at: dt.datetime | None = None
        if options.get("at"):
            at = parse_datetime(options["at"])
            if at is None:
                raise CommandError(f"--at {options['at']!r} is not an ISO 8601 date and time.")
        actor = self.user_of_run()
        if actor is not None and not actor.has_perm("documents.add_distribution"):
            raise CommandError(f"{actor.username} may not record distributions.")
        try:
            distribution = services.record_distribution(
                services.Provision(
                    version=version,
                    customer=customer,
                    contact=contact,
                    reason=options["reason"],
                    occasion=options["occasion"],
                    reference=options["reference"],
                    at=at,
                ),
                actor=actor,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{distribution.number}: {version} provided to {customer.number} {customer.name}."
        )

    def user_of_run(self) -> Any:
        from django.contrib.auth import get_user_model

        user_id = current_actor().user_id
        return get_user_model().objects.filter(pk=user_id).first() if user_id else None
