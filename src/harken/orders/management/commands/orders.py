"""`harken orders accept|confirm-change|raise|approve-notice|send-notice|trace`: the order
workflow's steps from the command line, through the same services as the pages."""

from __future__ import annotations

import argparse
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import CommandError, CommandParser
from django.db import models
from django.utils import timezone

from harken.core.audit import current_actor
from harken.core.management.base import HarkenCommand
from harken.customers.models import Customer
from harken.orders import services
from harken.orders.choices import EventType, Severity
from harken.orders.models import ChangeRequest, Notice, Order
from harken.orders.trace import order_trace


def accept_as_after_verb(parser: CommandParser) -> None:
    """`harken orders accept … --as USER` as well as `harken orders --as USER accept …`."""
    parser.add_argument("--as", dest="as_user", metavar="USER", default=argparse.SUPPRESS)


def find(model: type[models.Model], ref: str) -> Any:
    ref = ref.strip()
    queryset = model._default_manager.all()
    found = (
        queryset.filter(pk=int(ref)).first()
        if ref.isdigit()
        else queryset.filter(number__iexact=ref).first()
    )
    if found is None:
        raise CommandError(f"No {model._meta.verbose_name} has the number {ref!r}.")
    return found


def opened(stack: ExitStack, path: str | None) -> File | None:
    if not path:
        return None
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file.")
    return File(stack.enter_context(file.open("rb")), name=file.name)


class Command(HarkenCommand):
    help = "Accept orders, confirm changes, raise escalations and send notices; trace an order."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="verb", required=True)
        accept = sub.add_parser("accept", help="Accept an order (needs a completed review).")
        accept.add_argument("order", help="ORD-… number or id.")
        accept.add_argument("--po", help="The customer's acceptance (purchase order…) to attach.")
        accept.add_argument("--reference", default="", help="The customer's PO number.")
        confirm = sub.add_parser(
            "confirm-change", help="Record the customer's confirmation of a change."
        )
        confirm.add_argument("change", help="CHG-… number or id.")
        confirm.add_argument("--evidence", required=True, help="The confirmation file.")
        confirm.add_argument("--reference", default="")
        raise_ = sub.add_parser("raise", help="Raise an escalation against the matrix.")
        raise_.add_argument("--customer", help="CUS-… number or id (or give --order).")
        raise_.add_argument("--order", help="ORD-… number or id.")
        raise_.add_argument("--event", required=True, choices=EventType.values)
        raise_.add_argument("--severity", required=True, choices=Severity.values)
        raise_.add_argument("--title", required=True)
        raise_.add_argument("--description", required=True)
        approve = sub.add_parser("approve-notice", help="Approve a customer notice.")
        approve.add_argument("notice", help="NTC-… number or id.")
        send = sub.add_parser("send-notice", help="Send an approved customer notice by e-mail.")
        send.add_argument("notice", help="NTC-… number or id.")
        trace = sub.add_parser("trace", help="Print an order's trace.")
        trace.add_argument("order", help="ORD-… number or id.")
        for verb in (accept, confirm, raise_, approve, send, trace):
            accept_as_after_verb(verb)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"].replace("-", "_")
        try:
            getattr(self, f"do_{verb}")(options)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from exc

    def user_of_run(self) -> Any:
        user_id = current_actor().user_id
        return get_user_model().objects.filter(pk=user_id).first() if user_id else None

    def do_accept(self, options: dict[str, Any]) -> None:
        order = find(Order, options["order"])
        with ExitStack() as stack:
            services.accept_order(
                order,
                actor=self.user_of_run(),
                file=opened(stack, options.get("po")),
                customer_reference=options["reference"],
            )
        self.stdout.write(
            f"{order.number} accepted for {order.customer.name} (version {order.version})."
        )

    def do_confirm_change(self, options: dict[str, Any]) -> None:
        change = find(ChangeRequest, options["change"])
        with ExitStack() as stack:
            version = services.confirm_change(
                change,
                actor=self.user_of_run(),
                file=opened(stack, options["evidence"]),
                reference=options["reference"],
            )
        self.stdout.write(
            f"{change.number} confirmed: {version.order.number} is now version {version.number}."
        )

    def do_raise(self, options: dict[str, Any]) -> None:
        order = find(Order, options["order"]) if options.get("order") else None
        if options.get("customer"):
            customer = find(Customer, options["customer"])
        elif order is not None:
            customer = order.customer
        else:
            raise CommandError("Give --customer or --order.")
        escalation = services.raise_escalation(
            actor=self.user_of_run(),
            customer=customer,
            order=order,
            event_type=options["event"],
            severity=options["severity"],
            title=options["title"],
            description=options["description"],
        )
        due = (
            f"; tell the customer by {timezone.localtime(escalation.notice_due):%Y-%m-%d %H:%M}"
            if escalation.notice_due
            else ""
        )
        self.stdout.write(f"{escalation.number} raised for {customer.name}{due}.")

    def do_approve_notice(self, options: dict[str, Any]) -> None:
        notice = find(Notice, options["notice"])
        services.approve_notice(notice, actor=self.user_of_run())
        self.stdout.write(f"{notice.number} approved.")

    def do_send_notice(self, options: dict[str, Any]) -> None:
        notice = find(Notice, options["notice"])
        services.send_notice(notice, actor=self.user_of_run())
        assert notice.communication is not None  # noqa: S101 - set by send_notice
        self.stdout.write(
            f"{notice.number} sent to {notice.contact.email}, logged as "
            f"{notice.communication.number}."
        )

    def do_trace(self, options: dict[str, Any]) -> None:
        order = find(Order, options["order"])
        for number, step in enumerate(order_trace(order), start=1):
            self.stdout.write(f"{number}. {step.title}" + (f"  [{step.gap}]" if step.gap else ""))
            for entry in step.entries:
                self.stdout.write(f"   {entry.title}  {entry.status}".rstrip())
                for line in entry.lines:
                    self.stdout.write(f"     {line}")
                for document in entry.documents:
                    self.stdout.write(f"     document: {document.label} ({document.distribution})")
                for file in entry.files:
                    self.stdout.write(f"     evidence: {file.name} sha256 {file.sha256}")
                for c in entry.communications:
                    self.stdout.write(
                        f"     {c.number} {c.get_direction_display().lower()}: {c.subject}"
                    )
