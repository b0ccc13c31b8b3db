"""Demo feedback: the source register and two years of feedback from every channel.

The story the data tells (later issues build on it): steady satisfaction with a
seasonal dip each winter; Industrial Valves' delivery complaints rise sharply in the
third quarter of the current year (a carrier change); a Zendesk export is imported
twice (the second import finds only duplicates); most items are classified and
confirmed, recent ones wait in the triage queue, and a few complaints are overdue.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from harken.core import audit
from harken.core.choices import Role
from harken.customers.models import Customer, ProductLine

from .choices import ItemKind, ItemStatus, Scale, SourceKind
from .importers import CanonicalRecord
from .importing import BulkWriter, Options, create_batch, run_import, score_sentiment
from .models import FeedbackItem, PerceptionSource

MONTHS = 24

SOURCES: tuple[dict[str, Any], ...] = (
    {
        "name": "Relationship NPS survey",
        "kind": SourceKind.SURVEY,
        "structured": True,
        "owner_role": Role.QUALITY_MANAGER,
        "collection_method": "Quarterly e-mail survey to every active customer contact.",
        "fields_captured": "Likelihood to recommend (0–10), reason (free text), contact.",
        "storage_location": "Harken",
        "retention": "7 years",
        "default_kind": ItemKind.SURVEY_RESPONSE,
        "default_scale": Scale.NPS,
    },
    {
        "name": "Post-ticket CSAT",
        "kind": SourceKind.SUPPORT_TICKETS,
        "structured": True,
        "owner_role": Role.QUALITY_ANALYST,
        "collection_method": (
            "Zendesk satisfaction rating after each solved ticket; exported monthly."
        ),
        "fields_captured": "Ticket, good/bad rating, comment, timestamps.",
        "storage_location": "Zendesk (export kept in Harken)",
        "retention": "3 years",
        "third_party": "Zendesk",
        "default_kind": ItemKind.SURVEY_RESPONSE,
        "default_scale": Scale.CSAT2,
    },
    {
        "name": "Complaints inbox",
        "kind": SourceKind.COMPLAINTS_INBOX,
        "structured": False,
        "owner_role": Role.QUALITY_MANAGER,
        "collection_method": "complaints@ shared mailbox and phone calls logged by staff.",
        "fields_captured": "Customer, contact, product line, description, attachments.",
        "storage_location": "Harken",
        "retention": "10 years",
        "default_kind": ItemKind.COMPLAINT,
    },
    {
        "name": "Returns and warranty claims",
        "kind": SourceKind.RETURNS,
        "structured": True,
        "owner_role": Role.QUALITY_ANALYST,
        "collection_method": "RMA form in the customer portal.",
        "fields_captured": "Part, quantity, failure description, order reference.",
        "storage_location": "ERP, copied to Harken",
        "retention": "10 years",
        "default_kind": ItemKind.RETURN_CLAIM,
    },
    {
        "name": "Account reviews (QBR notes)",
        "kind": SourceKind.ACCOUNT_NOTES,
        "structured": False,
        "owner_role": Role.CUSTOMER_FACING,
        "collection_method": "Notes of quarterly business reviews with key accounts.",
        "fields_captured": "Customer, attendees, what they said.",
        "storage_location": "Harken",
        "retention": "7 years",
        "default_kind": ItemKind.SUGGESTION,
    },
    {
        "name": "Distributor reports",
        "kind": SourceKind.DEALER_REPORTS,
        "structured": False,
        "owner_role": Role.CUSTOMER_FACING,
        "collection_method": "Monthly report from each distributor on end-customer feedback.",
        "fields_captured": "Distributor, product line, comments.",
        "storage_location": "Harken",
        "retention": "5 years",
        "default_kind": ItemKind.SUGGESTION,
    },
    {
        "name": "Online reviews",
        "kind": SourceKind.REVIEWS,
        "structured": True,
        "owner_role": "",
        "collection_method": "Industry directory reviews, collected by a monitoring agency.",
        "fields_captured": "Star rating, review text, date.",
        "storage_location": "Agency portal, monthly CSV",
        "retention": "2 years",
        "third_party": "Review monitoring agency",
        "in_scope": False,
        "scope_rationale": "Too few reviews to trend; kept for context only.",
        "default_kind": ItemKind.REVIEW,
        "default_scale": Scale.STARS,
    },
)

COMPLAINT_TEXTS = {
    "delivery": (
        "Order {order} arrived {days} days late and our line was waiting for it.",
        "The shipment was delayed again; the carrier had no tracking for three days.",
        "Delivery came in short: wrong quantity on the delivery note for {order}.",
        "Lead time on {line} is now far longer than quoted. Please explain the delay.",
        "Parts not arrived yet although the confirmed date was last week.",
    ),
    "quality_defect": (
        "Several {line} parts out of tolerance on the sealing face; batch quarantined.",
        "Two housings cracked at incoming inspection. Photos attached.",
        "The valve is leaking under test pressure, we need a replacement urgently.",
        "Defective threads on {order}, the fittings do not seat.",
    ),
    "documentation": (
        "Certificate of conformity missing from the delivery of {order}.",
        "The drawing revision on the documentation does not match our purchase order.",
    ),
    "billing": (
        "We were invoiced twice for {order}; please send a credit note.",
        "The invoice shows the old price although we agreed the new one.",
    ),
    "responsiveness": (
        "No response to our request for three weeks, we chased twice.",
        "Still waiting for a callback about the technical query.",
    ),
    "product_performance": (
        "Seals worn after only two months in service, much earlier than expected.",
        "Corrosion visible on the {line} body after one winter outdoors.",
    ),
}
PRAISE = (
    "Great service, the team went out of their way to help.",
    "Excellent quality as always, thank you.",
    "Very happy with the quick turnaround on {order}.",
    "Reliable partner, deliveries on time all year.",
)
NPS_REASONS = {
    "promoter": (
        "Reliable quality and people who answer the phone.",
        "Always on time and easy to work with.",
        "Great engineering support on the new design.",
    ),
    "passive": (
        "Good parts but lead times are long.",
        "Fine overall, pricing could be sharper.",
        "OK, nothing special.",
    ),
    "detractor": (
        "Deliveries have been late too often this year.",
        "Quality problems on the last batches, disappointed.",
        "Hard to get answers from customer service.",
    ),
}
SUGGESTIONS = (
    "Would like a customer portal with live order status.",
    "Please offer consignment stock for the fast movers.",
    "Suggest adding QR codes to the labels for traceability.",
    "Quarterly quality reports would help our supplier scoring.",
)


def month_starts(today: dt.date) -> list[dt.date]:
    first = today.replace(day=1)
    months = []
    for back in range(MONTHS - 1, -1, -1):
        year, month = first.year, first.month - back
        while month <= 0:
            month += 12
            year -= 1
        months.append(dt.date(year, month, 1))
    return months


def seasonal(month: int) -> float:
    """More feedback (and more complaints) in the winter months."""
    return 1.0 + 0.25 * math.cos((month - 1) / 12 * 2 * math.pi)


def build_feedback(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 3)  # noqa: S311 - demo data: reproducible, not secret
    User = get_user_model()
    owners = {
        Role.QUALITY_MANAGER: User.objects.filter(username="quality").first(),
        Role.QUALITY_ANALYST: User.objects.filter(username="analyst").first(),
        Role.CUSTOMER_FACING: User.objects.filter(username="sales").first(),
    }
    sources = {}
    for spec in SOURCES:
        fields = dict(spec)
        role = fields.get("owner_role", "")
        fields["owner"] = owners.get(role)
        sources[spec["name"]] = PerceptionSource.objects.create(**fields)

    today = timezone.localdate()
    months = month_starts(today)
    customers = list(
        Customer.objects.filter(status="active")
        .select_related("region")
        .prefetch_related("product_lines", "contacts")
    )
    valves = ProductLine.objects.filter(code="VAL").first()
    spike_quarter = ((today.month - 1) // 3) - 1  # the last full quarter
    spike_year = today.year
    if spike_quarter < 0:
        spike_quarter, spike_year = 3, today.year - 1
    records: dict[str, list[CanonicalRecord]] = {name: [] for name in sources}
    line_no = 0

    def when(month: dt.date) -> dt.datetime:
        last_day = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(
            days=1
        )
        if month.year == today.year and month.month == today.month:
            last_day = today - dt.timedelta(days=1)
        day = rng.randint(1, max(1, last_day.day))
        local = dt.datetime(month.year, month.month, day, rng.randint(7, 18), rng.randint(0, 59))
        return timezone.make_aware(local)

    def add(source: str, **fields: Any) -> None:
        nonlocal line_no
        line_no += 1
        records[source].append(CanonicalRecord(line=line_no, raw={"demo": "generated"}, **fields))

    for month in months:
        season = seasonal(month.month)
        in_spike = month.year == spike_year and (month.month - 1) // 3 == spike_quarter
        for customer in customers:
            lines = list(customer.product_lines.all())
            contacts = list(customer.contacts.all())
            contact = contacts[0].email if contacts else ""
            weight = {"key_account": 2.0, "strategic": 1.4, "standard": 1.0, "distributor": 1.2}[
                customer.segment
            ]
            for line in lines:
                rate = 0.09 * season * weight
                delivery_boost = 4.0 if (in_spike and valves and line.pk == valves.pk) else 1.0
                for _ in range(
                    poisson(rng, rate * (1 + delivery_boost) / 2 if delivery_boost > 1 else rate)
                ):
                    category = (
                        "delivery"
                        if delivery_boost > 1 and rng.random() < 0.8
                        else rng.choices(list(COMPLAINT_TEXTS), weights=(3, 3, 1, 1, 1, 1))[0]
                    )
                    text = rng.choice(COMPLAINT_TEXTS[category]).format(
                        order=f"PO-{rng.randint(40000, 99999)}",
                        days=rng.randint(2, 15),
                        line=line.name,
                    )
                    received = when(month)
                    ack = received + dt.timedelta(hours=rng.randint(2, 60))
                    resolved = received + dt.timedelta(days=rng.randint(3, 30))
                    now = timezone.now()
                    add(
                        "Complaints inbox",
                        kind=ItemKind.COMPLAINT,
                        received_at=received,
                        title=text.split(".")[0][:80],
                        text=text,
                        customer_ref=customer.number,
                        contact_email=contact,
                        product_line=line.code,
                        acknowledged_at=ack if ack < now else None,
                        resolved_at=resolved if resolved < now - dt.timedelta(days=10) else None,
                    )
                if rng.random() < 0.03 * weight:
                    add(
                        "Returns and warranty claims",
                        kind=ItemKind.RETURN_CLAIM,
                        received_at=when(month),
                        text=rng.choice(COMPLAINT_TEXTS["product_performance"]).format(
                            line=line.name
                        ),
                        customer_ref=customer.number,
                        product_line=line.code,
                    )
            if rng.random() < 0.05 * weight:
                add(
                    "Complaints inbox",
                    kind=ItemKind.COMPLIMENT,
                    received_at=when(month),
                    text=rng.choice(PRAISE).format(order=f"PO-{rng.randint(40000, 99999)}"),
                    customer_ref=customer.number,
                    contact_email=contact,
                    product_line=lines[0].code if lines else "",
                )
            # The relationship survey goes out in the last month of each quarter.
            if month.month % 3 == 0 and contacts and rng.random() < 0.35:
                bias = -2.0 if (in_spike and valves and valves in lines) else 0.0
                score = max(0, min(10, round(rng.gauss(8.4 + bias - (season - 1) * 2, 1.5))))
                group = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
                add(
                    "Relationship NPS survey",
                    kind=ItemKind.SURVEY_RESPONSE,
                    received_at=when(month),
                    score=score,
                    scale=Scale.NPS,
                    text=rng.choice(NPS_REASONS[group]) if rng.random() < 0.6 else "",
                    customer_ref=customer.number,
                    contact_email=contact,
                    product_line=lines[0].code if lines else "",
                )
            if customer.segment == "key_account" and month.month % 3 == 1 and rng.random() < 0.7:
                add(
                    "Account reviews (QBR notes)",
                    kind=ItemKind.SUGGESTION,
                    received_at=when(month),
                    text=rng.choice(SUGGESTIONS),
                    customer_ref=customer.number,
                )
            if customer.segment == "distributor" and rng.random() < 0.3:
                add(
                    "Distributor reports",
                    kind=ItemKind.SUGGESTION,
                    received_at=when(month),
                    text=rng.choice(SUGGESTIONS + PRAISE).format(order="their orders"),
                    customer_ref=customer.number,
                )
        for _ in range(poisson(rng, 3)):
            add(
                "Online reviews",
                kind=ItemKind.REVIEW,
                received_at=when(month),
                score=rng.choice((3, 4, 4, 5, 5, 2)),
                scale=Scale.STARS,
                text=rng.choice(PRAISE + NPS_REASONS["detractor"]).format(order="our order"),
            )

    created = 0
    for name, source_records in records.items():
        if not source_records:
            continue
        writer = BulkWriter(sources[name])
        writer.write(iter(source_records))
        created += writer.created
    created += import_zendesk_export(rng, sources["Post-ticket CSAT"], customers, months)
    score_sentiment()
    confirmed = confirm_history(rng, today)
    overdue = plant_overdue(rng, sources["Complaints inbox"], customers)
    return (
        f"{len(sources)} sources, {created:,} feedback items over {MONTHS} months "
        f"({confirmed:,} classified by a person, {overdue} complaints overdue)"
    )


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def import_zendesk_export(
    rng: random.Random, source: PerceptionSource, customers: list[Customer], months: list[dt.date]
) -> int:
    """Write a Zendesk ticket export and import it twice, as a user would by mistake."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "Id",
            "Requester",
            "Requester email",
            "Subject",
            "Tags",
            "Status",
            "Created at",
            "Solved at",
            "Satisfaction Score",
            "Organization",
        ]
    )
    ticket = 18000
    for month in months[-6:]:
        for _ in range(120):
            customer = rng.choice(customers)
            contacts = list(customer.contacts.all())
            contact = contacts[0] if contacts else None
            created = dt.datetime(
                month.year, month.month, rng.randint(1, 28), rng.randint(7, 18), 0
            )
            if timezone.make_aware(created) > timezone.now():
                continue
            ticket += 1
            good = rng.random() < 0.84
            writer.writerow(
                [
                    ticket,
                    contact.name if contact else "",
                    contact.email if contact else "",
                    rng.choice(
                        ("Order status", "Technical question", "Invoice copy", "Drawing request")
                    ),
                    "support",
                    "solved",
                    created.strftime("%Y-%m-%d %H:%M:%S"),
                    (created + dt.timedelta(hours=rng.randint(2, 96))).strftime(
                        "%Y-%m-%d %H:%M:%S"
                    ),
                    rng.choice(("good", "good", "bad", "offered")) if not good else "good",
                    customer.name,
                ]
            )
    data = out.getvalue().encode()
    total = 0
    for _ in range(2):
        batch = create_batch(
            source=source,
            upload=io.BytesIO(data),
            name="zendesk-tickets-export.csv",
            options=Options(preset="zendesk", kind="survey_response"),
        )
        batch = run_import(batch)
        total += batch.created_count
    return total


def confirm_history(rng: random.Random, today: dt.date) -> int:
    """Items older than a fortnight were triaged by the analyst; newer ones wait."""
    analyst = get_user_model().objects.filter(username="analyst").first()
    cutoff = timezone.now() - dt.timedelta(days=14)
    old = FeedbackItem.objects.filter(received_at__lt=cutoff)
    count = old.update(classification_confirmed=True, classified_by=analyst, classified_at=cutoff)
    # A score without words has nothing to classify: it is read, then closed.
    old.filter(category__isnull=True, kind__in=[ItemKind.SURVEY_RESPONSE, ItemKind.REVIEW]).update(
        status=ItemStatus.CLOSED
    )
    old = old.filter(category__isnull=False)
    old.update(status=ItemStatus.TRIAGED)
    old.filter(kind=ItemKind.COMPLAINT, impact="").update(impact="minor")
    old.filter(kind=ItemKind.COMPLAINT, category__code__in=["quality_defect", "delivery"]).filter(
        Q(pk__in=list(old.filter(kind=ItemKind.COMPLAINT).values_list("pk", flat=True)[::5]))
    ).update(impact="major")
    closed = old.filter(
        Q(kind=ItemKind.COMPLAINT, resolved_at__isnull=False, acknowledged_at__isnull=False)
        | ~Q(kind=ItemKind.COMPLAINT)
    ).update(status=ItemStatus.CLOSED)
    audit.record(
        "feedbackitem.demo_history",
        object_type="feedback.feedbackitem",
        object_label="demo history",
        changes={"confirmed": count, "closed": closed, "before": cutoff.isoformat()},
    )
    return count


def plant_overdue(rng: random.Random, source: PerceptionSource, customers: list[Customer]) -> int:
    """Three recent complaints nobody acknowledged in time (the readiness check finds them)."""
    from .services import Intake, record_feedback

    planted = 0
    for days in (9, 6, 5):
        customer = rng.choice(customers)
        _, created = record_feedback(
            Intake(
                source=source,
                kind=ItemKind.COMPLAINT,
                received_at=timezone.now() - dt.timedelta(days=days),
                title="Damaged packaging",
                text=f"Pallet arrived damaged, boxes crushed on one side ({days} days ago).",
                customer=customer,
            )
        )
        planted += int(created)
    return planted
