"""Demo enquiries, orders and escalations, built through the services.

The story: over the last two months a dozen enquiries came in by e-mail and phone. Most
were answered within a working day, reviewed, offered with the current quote template,
terms and spec sheet, and ordered; one needed a clarification round first; one was
declined (a pressure class we are not certified for); one customer's purchase order
changed the price, so the difference was reviewed before acceptance; one order waits
for acceptance while its review is still open, and the newest enquiry is past its
first-response target. Two orders were changed and confirmed, a third change waits for
the customer. A delay was escalated and the customer told within the deadline; a
defect was told late, with the reason on record.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.utils import timezone

from harken.communications import services as communications
from harken.communications.choices import Channel, Direction, Phase
from harken.customers.models import Customer, ProductLine
from harken.documents import services as documents
from harken.documents.choices import DocumentKind
from harken.documents.models import Document, DocumentVersion

from . import services
from .choices import (
    AcceptanceKind,
    Answer,
    ChangeAspect,
    ChangeOrigin,
    EventType,
    IntakeField,
    ReviewOutcome,
    Severity,
)
from .models import EscalationRule, IntakeProfile

NOTICE_TEMPLATE = """Dear $contact,

We have to tell you about an event that affects $customer: $event ($severity).

$title

$description

It concerns your order $customer_reference ($order), currently due on $delivery_date.
Our reference is $reference. We will keep you informed until it is resolved; please reply
to this message with any question.

Kind regards,
$sender
$company
"""

# (scope, stated requirements, statutory, product line code)
REQUESTS = (
    (
        "240 ball valves DN50 PN40, stainless",
        "Drawing V-5520 rev B; 3.1 certificates; pressure test report per valve.",
        "PED 2014/68/EU category II.",
        "VAL",
    ),
    (
        "1,200 machined housings to drawing 7741",
        "Tolerance ±0.02 mm on bore A; anodised black; first-article inspection report.",
        "REACH and RoHS declarations.",
        "MAC",
    ),
    (
        "Calibration of 35 pressure gauges",
        "Accredited certificates; 5-day turnaround; collection from site.",
        "ISO/IEC 17025 accredited calibration.",
        "CAL",
    ),
    (
        "600 hydraulic adaptors, 42L series",
        "Zinc-nickel plating; NPT threads; packed in lots of 50.",
        "",
        "HYD",
    ),
    (
        "Sheet-metal enclosures, 80 pcs",
        "IP54; powder-coated RAL 7035; door hinges left.",
        "Low Voltage Directive documentation.",
        "SHM",
    ),
    (
        "Field maintenance contract, 2 sites",
        "Quarterly visits; 24 h response for breakdowns.",
        "",
        "FLD",
    ),
)


def weekday_before(now: dt.datetime, days: int, hour: int) -> dt.datetime:
    at = timezone.localtime(now - dt.timedelta(days=days)).replace(
        hour=hour, minute=15, second=0, microsecond=0
    )
    while at.weekday() >= 5:
        at -= dt.timedelta(days=1)
    return at


def file_of(name: str, text: str) -> File:
    return File(io.BytesIO(text.encode()), name=name)


def build_orders(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 27)  # noqa: S311 - demo data: reproducible, not secret
    User = get_user_model()
    quality = User.objects.get(username="quality")
    analyst = User.objects.get(username="analyst")
    sales = User.objects.get(username="sales")
    support = User.objects.get(username="support")
    now = timezone.now()
    services.seed_configuration()

    template = notice_template(quality, analyst, now)
    for rule in EscalationRule.objects.all():
        rule.notice_template = template.document
        rule.save(update_fields=["notice_template"])
    lines = {line.code: line for line in ProductLine.objects.all()}
    for code, required, days in (
        (
            "MAC",
            [
                IntakeField.CONTACT,
                IntakeField.RECEIVED_VIA,
                IntakeField.REQUESTED_SCOPE,
                IntakeField.REQUIREMENTS_STATED,
                IntakeField.REQUESTED_DELIVERY,
            ],
            1,
        ),
        ("CAL", [IntakeField.CONTACT, IntakeField.REQUESTED_SCOPE], 2),
        (
            "VAL",
            [
                IntakeField.CONTACT,
                IntakeField.REQUESTED_SCOPE,
                IntakeField.REQUIREMENTS_STATED,
                IntakeField.REQUIREMENTS_STATUTORY,
                IntakeField.REQUESTED_DELIVERY,
            ],
            1,
        ),
    ):
        if code in lines:
            IntakeProfile.objects.create(
                product_line=lines[code], required_fields=required, first_response_days=days
            )

    offer_documents = [
        v
        for kind in (DocumentKind.QUOTE_TEMPLATE, DocumentKind.CONTRACT_TERMS)
        for v in DocumentVersion.objects.filter(is_current=True, document__kind=kind)[:1]
    ]
    product_information = list(
        DocumentVersion.objects.filter(
            is_current=True,
            document__kind__in=[DocumentKind.SPEC_SHEET, DocumentKind.SERVICE_DESCRIPTION],
        ).select_related("document")
    )
    customers = [
        c
        for c in Customer.objects.filter(status="active").order_by("number")[:80]
        if c.contacts.exclude(email="").exists()
    ]
    picked = rng.sample(customers, k=min(len(customers), 12))
    people = [sales, support]
    story = Story(rng, now, people, quality, analyst, offer_documents, product_information, lines)
    orders = []
    for index, customer in enumerate(picked[:7]):
        flavour = {1: "clarify", 3: "differs"}.get(index, "plain")
        orders.append(story.ordered(customer, days_ago=55 - index * 6, flavour=flavour))
    declined = story.declined(picked[7], days_ago=20) if len(picked) > 7 else None
    if len(picked) > 8:
        story.pending(picked[8], days_ago=6)
    if len(picked) > 9:
        story.received_late(picked[9])
    changes = story.changes(orders)
    escalations = story.escalations(orders)
    services.flag_overdue_enquiries(now)
    return (
        f"{len(orders)} orders from reviewed enquiries, {1 if declined else 0} declined, "
        f"{changes} changes, {escalations} escalations"
    )


def notice_template(quality: Any, analyst: Any, now: dt.datetime) -> DocumentVersion:
    document = Document.objects.create(
        title="Customer notice of a delay, defect or incident",
        kind=DocumentKind.NOTICE_TEMPLATE,
        owner_role="quality_manager",
        clauses="8.2.1",
        purpose="The text of contingency notices. Placeholders: $contact, $customer, $event, "
        "$severity, $title, $description, $occurred_at, $order, $customer_reference, "
        "$delivery_date, $reference, $sender, $company.",
    )
    version = documents.create_version(
        document, actor=quality, label="1.0", body=NOTICE_TEMPLATE, change_summary="First issue."
    )
    when = now - dt.timedelta(days=120)
    documents.submit(version, actor=quality)
    documents.record_review(version, actor=analyst, comment="Suitable and adequate.", at=when)
    return documents.approve(version, actor=quality, effective_from=when.date(), at=when)


class Story:
    """The demo's enquiries, each taken as far as its part of the story goes."""

    def __init__(
        self,
        rng: random.Random,
        now: dt.datetime,
        people: list[Any],
        quality: Any,
        analyst: Any,
        offer_documents: list[DocumentVersion],
        product_information: list[DocumentVersion],
        lines: dict[str, ProductLine],
    ) -> None:
        self.rng, self.now, self.people = rng, now, people
        self.quality, self.analyst = quality, analyst
        self.offer_documents, self.lines = offer_documents, lines
        self.product_information = product_information
        self.po = 4500

    def information_for(self, line: ProductLine | None) -> list[DocumentVersion]:
        """The spec sheet or service description of the line (matched by its name)."""
        if line is None:
            return []
        first = line.name.split()[0].lower()
        matching = [
            v for v in self.product_information if v.document.title.lower().startswith(first)
        ]
        return matching[:1]

    def contact(self, customer: Customer) -> Any:
        return customer.contacts.exclude(email="").order_by("-is_primary", "pk").first()

    def enquiry(self, customer: Customer, days_ago: int, **overrides: Any) -> Any:
        scope, stated, statutory, line = self.rng.choice(REQUESTS)
        person = self.rng.choice(self.people)
        received = weekday_before(self.now, days_ago, self.rng.choice([9, 11, 14]))
        contact = self.contact(customer)
        inbound = None
        if "received_via" not in overrides:
            inbound = communications.log_communication(
                communications.Entry(
                    customer=customer,
                    channel=Channel.EMAIL,
                    direction=Direction.INBOUND,
                    subject=f"Request for quotation: {scope}",
                    body=f"{stated}\n\nPlease quote.",
                    occurred_at=received,
                    contacts=[contact],
                    staff=person,
                    phase=Phase.ENQUIRY,
                ),
                actor=person,
            )
        values: dict[str, Any] = {
            "customer": customer,
            "contact": contact,
            "received_via": inbound,
            "received_at": received,
            "customer_reference": f"RFQ-{self.rng.randint(1000, 9999)}",
            "product_line": self.lines.get(line),
            "requested_scope": scope,
            "requirements_stated": stated,
            "requirements_implied": "Parts cleaned and protected for transport.",
            "requirements_statutory": statutory,
            "requirements_ours": "Our incoming inspection plan applies.",
            "requested_delivery": (received + dt.timedelta(days=45)).date(),
            "customer_property": line == "MAC",
            "owner": person,
        }
        values.update(overrides)
        enquiry = services.record_enquiry(services.EnquiryIntake(**values), actor=person)
        return enquiry, person, received

    def answer(self, enquiry: Any, person: Any, at: dt.datetime, text: str) -> None:
        services.log_exchange(
            enquiry,
            actor=person,
            direction=Direction.OUTBOUND,
            channel=Channel.EMAIL,
            subject=f"Re: your enquiry {enquiry.customer_reference}",
            body=text,
            occurred_at=at,
            contacts=[enquiry.contact],
        )

    def review(self, enquiry: Any, at: dt.datetime, outcome: str, **text: str) -> Any:
        review = services.start_review(enquiry, actor=self.analyst)
        answers = {
            a.pk: (Answer.YES, "Checked against the drawing and our capacity plan.")
            for a in review.answers.all()
        }
        if outcome == ReviewOutcome.DECLINE:
            first = review.answers.order_by("position")[1]
            answers[first.pk] = (Answer.NO, "Not certified for this pressure class.")
        return services.complete_review(
            review,
            actor=self.analyst,
            data=services.ReviewInput(answers=answers, outcome=outcome, **text),
            at=at,
        )

    def ordered(self, customer: Customer, days_ago: int, flavour: str) -> Any:
        enquiry, person, received = self.enquiry(customer, days_ago)
        self.answer(
            enquiry,
            person,
            received + dt.timedelta(hours=3),
            "Thank you for your enquiry; our quotation follows after the technical review.",
        )
        reviewed = received + dt.timedelta(days=1)
        if flavour == "clarify":
            self.review(
                enquiry,
                reviewed,
                ReviewOutcome.CLARIFY,
                clarification="Which surface finish on the sealing faces?",
            )
            services.log_exchange(
                enquiry,
                actor=person,
                direction=Direction.INBOUND,
                channel=Channel.PHONE,
                subject="Surface finish clarified",
                body="Ra 0.8 on sealing faces, Ra 3.2 elsewhere.",
                occurred_at=reviewed + dt.timedelta(hours=5),
                contacts=[enquiry.contact],
            )
            reviewed += dt.timedelta(days=1)
        self.review(enquiry, reviewed, ReviewOutcome.ACCEPT)
        price = Decimal(self.rng.randrange(8_000, 90_000, 250))
        issued = reviewed + dt.timedelta(hours=4)
        # Only versions approved by then: a superseded one is never sent.
        versions = [
            v
            for v in [*self.offer_documents, *self.information_for(enquiry.product_line)]
            if v.approved_at and v.approved_at <= issued
        ]
        offer = services.issue_offer(
            enquiry,
            actor=person,
            terms=services.OfferTerms(
                scope=enquiry.requested_scope,
                requirements=enquiry.requirements_stated,
                delivery_date=enquiry.requested_delivery,
                price=price,
                valid_until=(reviewed + dt.timedelta(days=30)).date(),
                issued_at=issued,
                versions=versions,
                file=file_of(f"quotation-{enquiry.number}.txt", f"Quotation for {enquiry}"),
            ),
        )
        self.po += 1
        received_po = reviewed + dt.timedelta(days=3)
        record = services.AcceptanceRecord(
            kind=AcceptanceKind.PURCHASE_ORDER,
            received_at=received_po,
            customer_reference=f"PO-{self.po}",
            file=file_of(f"PO-{self.po}.txt", f"Purchase order PO-{self.po} for {offer.number}"),
        )
        if flavour == "differs":
            record.price = offer.price - 500 if offer.price else None
            record.differences = "The customer's purchase order applies their payment terms."
        order = services.record_acceptance(enquiry, actor=person, record=record, offer=offer)
        if flavour == "differs":
            review = services.review_differences(order, actor=self.analyst)
            services.complete_review(
                review,
                actor=self.quality,
                data=services.ReviewInput(
                    answers={a.pk: (Answer.YES, "") for a in review.answers.all()},
                    outcome=ReviewOutcome.ACCEPT_WITH_CONDITIONS,
                    conditions="Lower price accepted for a firm call-off of the full quantity.",
                ),
                at=received_po + dt.timedelta(hours=2),
            )
        return services.accept_order(order, actor=person, at=received_po + dt.timedelta(hours=6))

    def declined(self, customer: Customer, days_ago: int) -> Any:
        enquiry, person, received = self.enquiry(customer, days_ago)
        self.answer(enquiry, person, received + dt.timedelta(hours=2), "Thank you, we review it.")
        self.review(
            enquiry,
            received + dt.timedelta(days=1),
            ReviewOutcome.DECLINE,
            decline_reason="PN100 valves are outside our pressure-equipment certification.",
        )
        self.answer(
            enquiry,
            person,
            received + dt.timedelta(days=1, hours=2),
            "We are sorry: PN100 is outside our certification, so we cannot quote.",
        )
        return enquiry

    def pending(self, customer: Customer, days_ago: int) -> Any:
        """A purchase order arrived while the review is still open: not accepted yet."""
        enquiry, person, received = self.enquiry(customer, days_ago)
        self.answer(enquiry, person, received + dt.timedelta(hours=1), "Received, thank you.")
        services.start_review(enquiry, actor=self.analyst)
        self.po += 1
        return services.record_acceptance(
            enquiry,
            actor=person,
            record=services.AcceptanceRecord(
                kind=AcceptanceKind.PURCHASE_ORDER,
                customer_reference=f"PO-{self.po}",
                received_at=received + dt.timedelta(days=2),
                file=file_of(f"PO-{self.po}.txt", f"Purchase order PO-{self.po}"),
            ),
        )

    def received_late(self, customer: Customer) -> Any:
        """The newest enquiry, by phone, intake incomplete and not yet answered."""
        enquiry, _person, _received = self.enquiry(
            customer,
            4,
            requested_delivery=None,
            requirements_stated="",
            received_via=None,
        )
        return enquiry

    def changes(self, orders: list[Any]) -> int:
        made = 0
        for index, order in enumerate(orders[:3]):
            person = order.accepted_by or self.people[0]
            start = (order.accepted_at or self.now) + dt.timedelta(days=2)
            if index == 2:
                start = self.now - dt.timedelta(days=1)
            later = (order.delivery_date or self.now.date()) + dt.timedelta(days=7)
            proposal = services.ChangeProposal(
                origin=ChangeOrigin.CUSTOMER,
                description="The customer's line start moved; they ask for a later delivery.",
                aspects=[ChangeAspect.DATES],
                new_delivery_date=later,
                requested_at=start,
            )
            if index == 1:
                proposal = services.ChangeProposal(
                    origin=ChangeOrigin.US,
                    description="We propose zinc-nickel plating instead of zinc (better "
                    "corrosion resistance, same price).",
                    aspects=[ChangeAspect.REQUIREMENTS],
                    new_requirements=f"{order.requirements}\nZinc-nickel plating.",
                    requested_at=start,
                )
            change = services.request_change(order, actor=person, proposal=proposal)
            services.review_impact(
                change,
                actor=self.analyst,
                feasible=True,
                impact="Capacity available; no cost impact; other orders unaffected.",
                at=start + dt.timedelta(hours=3),
            )
            services.communicate_change(
                change,
                actor=person,
                channel=Channel.EMAIL,
                subject=f"Change to your order {order.customer_reference}",
                body=f"{change.description}\nPlease confirm in writing.",
                contacts=[order.contact] if order.contact else [],
            )
            if index < 2:
                services.confirm_change(
                    change,
                    actor=person,
                    file=file_of(f"confirmation-{change.number}.txt", "Confirmed. Regards."),
                    reference=f"{order.customer_reference} rev 1",
                )
            made += 1
        return made

    def escalations(self, orders: list[Any]) -> int:
        if len(orders) < 5:
            return 0
        sales = self.people[0]
        met = services.raise_escalation(
            actor=sales,
            customer=orders[3].customer,
            order=orders[3],
            event_type=EventType.DELAY,
            severity=Severity.MEDIUM,
            title="Delivery slips by one week",
            description="The heat-treatment supplier had a furnace breakdown; the batch "
            "is rescheduled for next week.",
            occurred_at=self.now - dt.timedelta(hours=5),
            raised_at=self.now - dt.timedelta(hours=4),
        )
        for item, text in (
            ("What happened", "Furnace breakdown at the heat-treatment supplier."),
            ("Customer impact", "Delivery one week later; the customer has stock for 10 days."),
            ("Containment", "Batch moved to the second supplier's furnace."),
        ):
            services.record_escalation_item(met, actor=sales, item=item, text=text)
        notice = services.draft_notice(met, actor=sales)
        services.approve_notice(notice, actor=sales)
        services.send_notice(notice, actor=sales)
        services.close_escalation(met, actor=sales)

        late = services.raise_escalation(
            actor=sales,
            customer=orders[4].customer,
            order=orders[4],
            event_type=EventType.DEFECT,
            severity=Severity.HIGH,
            title="Burrs found on delivered housings",
            description="Final inspection missed burrs on bore B of lot 3.",
            occurred_at=self.now - dt.timedelta(days=6),
            raised_at=self.now - dt.timedelta(days=6),
        )
        services.flag_breached_escalations(self.now)
        for item, text in (
            ("What happened", "Burrs on bore B of lot 3 (120 housings)."),
            ("Customer impact", "Assembly stopped for one shift at the customer."),
            ("Containment", "Lots 3 and 4 sorted at the customer's site by our inspector."),
        ):
            services.record_escalation_item(late, actor=self.quality, item=item, text=text)
        notice = services.draft_notice(late, actor=sales)
        services.approve_notice(notice, actor=self.quality)
        services.send_notice(notice, actor=sales)
        services.explain_breach(
            late,
            actor=self.quality,
            explanation="The quality manager was travelling and no deputy was named to approve "
            "notices; deputies are now named in the matrix procedure.",
        )
        return 2
