"""`harken survey send|remind|rates`: invite and send from the command line."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from harken.core.management.base import HarkenCommand
from harken.customers.models import ProductLine, Region
from harken.surveys import services
from harken.surveys.models import Survey


def find_survey(ref: str) -> Survey:
    ref = ref.strip()
    query = Q(number__iexact=ref) | (Q(pk=int(ref)) if ref.isdigit() else Q())
    survey = Survey.objects.filter(query).first()
    if survey is None:
        raise CommandError(f"No survey is numbered {ref!r}.")
    return survey


def ids_of(model: Any, refs: list[str], what: str) -> list[int]:
    found = []
    for ref in refs:
        obj = model.objects.filter(Q(code__iexact=ref) | Q(name__iexact=ref)).first()
        if obj is None:
            raise CommandError(f"--{what} {ref!r}: no such {what.replace('-', ' ')}.")
        found.append(obj.pk)
    return found


class Command(HarkenCommand):
    help = "Invite contacts to a survey and send the invitations (or only show who would get one)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="verb", required=True)
        send = sub.add_parser("send", help="Invite the selected contacts and send.")
        send.add_argument("survey", help="The survey's number (SRV-2026-0001).")
        send.add_argument("--dry-run", action="store_true", help="Only list who would be invited.")
        send.add_argument("--segment", action="append", default=[], help="Repeatable.")
        send.add_argument("--region", action="append", default=[], help="Code or name; repeatable.")
        send.add_argument(
            "--product-line", action="append", default=[], help="Code or name; repeatable."
        )
        send.add_argument("--primary-only", action="store_true", help="Primary contacts only.")
        send.add_argument(
            "--csv", help="A CSV file of e-mail addresses (column e-mail or the first)."
        )
        sub.add_parser("remind", help="Send due reminders and retry queued invitations.")
        rates = sub.add_parser("rates", help="Response rates of the surveys sent in a period.")
        rates.add_argument("--from", dest="start", help="First day (YYYY-MM-DD).")
        rates.add_argument("--to", dest="end", help="Last day (YYYY-MM-DD).")
        for verb in (send, rates):
            verb.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "remind":
            sent = services.send_due()
            reminded = services.send_reminders()
            self.stdout.write(
                f"invitations: {sent}; reminders: {reminded.sent} sent, {reminded.failed} to retry"
            )
            return
        if verb == "rates":
            today = timezone.localdate()
            try:
                end = dt.date.fromisoformat(options["end"]) if options["end"] else today
                start = (
                    dt.date.fromisoformat(options["start"])
                    if options["start"]
                    else end - dt.timedelta(days=365)
                )
            except ValueError as exc:
                raise CommandError("Dates are YYYY-MM-DD.") from exc
            rows = services.response_rates(start, end)
            for row in rows:
                rate = "—" if row["response_rate"] is None else f"{row['response_rate']:.0%}"
                self.stdout.write(
                    f"{row['survey']}  {row['title'][:40]:40}  delivered {row['delivered']:5}  "
                    f"answered {row['responded']:5}  rate {rate:>4}  opted out {row['opted_out']}"
                )
            self.stdout.write(f"{len(rows)} surveys sent from {start} to {end}.")
            return
        self.send(options)

    def send(self, options: dict[str, Any]) -> None:
        survey = find_survey(options["survey"])
        audience = services.Audience(
            segments=options["segment"],
            regions=ids_of(Region, options["region"], "region"),
            product_lines=ids_of(ProductLine, options["product_line"], "product-line"),
            primary_only=options["primary_only"],
        )
        missing: list[str] = []
        if options["csv"]:
            path = Path(options["csv"])
            if not path.is_file():
                raise CommandError(f"--csv {path}: no such file.")
            parsed = services.read_contact_csv(path.read_bytes())
            for error in parsed.errors:
                self.stderr.write(error)
            if not parsed.emails:
                raise CommandError(f"--csv {path}: no e-mail address in the file.")
            audience.emails = parsed.emails
        contacts = list(services.contacts_for(audience))
        if audience.emails:
            found = {c.email.lower() for c in contacts}
            missing = [e for e in dict.fromkeys(audience.emails) if e not in found]
        actor = self._actor_user(options)
        try:
            plan = services.invite(
                survey,
                contacts,
                actor=actor,
                dry_run=options["dry_run"],
                audience=audience,
                missing_emails=missing,
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        for contact in plan.invite:
            self.stdout.write(f"invite  {contact.email}  {contact.customer.name}")
        for skipped in plan.skipped:
            self.stdout.write(f"skip    {skipped.email or '(no address)'}  {skipped.reason}")
        if options["dry_run"]:
            self.stdout.write(
                f"dry run: {len(plan.invite)} would be invited to {survey.number}, "
                f"{len(plan.skipped)} not."
            )
            return
        report = services.SendReport()
        while True:
            batch = services.send_due(survey=survey)
            for name in ("sent", "bounced", "failed", "skipped"):
                setattr(report, name, getattr(report, name) + getattr(batch, name))
            if batch.errors or not (batch.sent + batch.bounced + batch.failed + batch.skipped):
                for error in batch.errors:
                    self.stderr.write(f"mail server: {error}")
                break
        self.stdout.write(
            f"{survey.number}: {len(plan.created)} invited, {len(plan.skipped)} not; {report}."
        )

    def _actor_user(self, options: dict[str, Any]) -> Any:
        from django.contrib.auth import get_user_model

        username = options.get("as_user")
        if not username:
            return None
        return get_user_model().objects.filter(username=username, is_active=True).first()
