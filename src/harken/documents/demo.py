"""Demo documents: the method documents approved and read, spec sheets and terms with
several versions, and a year of copies given to customers.

The story: the Industrial Valves spec sheet went from revision A to B five months ago
(a new pressure rating) and some customers still hold A, so its page lists them; the
customer communication procedure was revised to 1.1 two months ago and one of the two
customer-facing people has not acknowledged it yet.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from harken.customers.models import Customer

from . import services
from .choices import DocumentKind, Occasion
from .models import Document, DocumentVersion
from .seed import seed_method_documents

# title, kind, clauses, [(label, months ago approved, change summary, text)]
SPEC_DOCUMENTS: tuple[tuple[str, str, str, list[tuple[str, int | None, str, str]]], ...] = (
    (
        "Industrial Valves, series V — specification sheet",
        DocumentKind.SPEC_SHEET,
        "8.2.1",
        [
            ("A", 11, "First issue.", "Ball valves DN15–DN100, PN40, stainless 1.4408."),
            ("B", 5, "Pressure rating raised to PN63; seat material PTFE-C.", "PN63 rating."),
        ],
    ),
    (
        "Hydraulic Fittings catalogue — technical data",
        DocumentKind.SPEC_SHEET,
        "8.2.1",
        [
            ("2025.1", 12, "First issue.", "Couplings and adaptors to ISO 8434-1."),
            ("2025.2", 7, "Added 42L series.", "Adds the 42L series."),
            ("2026.1", None, "Zinc-nickel plating on all steel parts.", "Zinc-nickel plating."),
        ],
    ),
    (
        "Calibration services — service description",
        DocumentKind.SERVICE_DESCRIPTION,
        "8.2.1",
        [("1", 10, "First issue.", "Accredited calibration of gauges, 5-day turnaround.")],
    ),
    (
        "General terms and conditions of sale",
        DocumentKind.CONTRACT_TERMS,
        "8.2.1, 8.2.3",
        [
            ("2025", 12, "Annual revision.", "Terms of sale 2025."),
            ("2026", 1, "Liability cap and delivery terms (Incoterms 2020).", "Terms of 2026."),
        ],
    ),
    (
        "Quotation template — machined parts",
        DocumentKind.QUOTE_TEMPLATE,
        "8.2.1, 8.2.2",
        [("3", 9, "Lead-time statement added.", "Quotation for machined parts.")],
    ),
)


def _approve(
    version: DocumentVersion, quality: Any, analyst: Any, when: dt.datetime
) -> DocumentVersion:
    services.submit(version, actor=quality)
    services.record_review(version, actor=analyst, comment="Suitable and adequate.", at=when)
    return services.approve(version, actor=quality, effective_from=when.date(), at=when)


def build_documents(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 15)  # noqa: S311 - demo data: reproducible, not secret
    User = get_user_model()
    quality = User.objects.get(username="quality")
    analyst = User.objects.get(username="analyst")
    staff = list(User.objects.filter(groups__name="customer_facing").order_by("username"))
    now = timezone.now()

    def months_ago(months: float) -> dt.datetime:
        return now - dt.timedelta(days=round(months * 30.4))

    seed_method_documents()
    versions = 0
    for key, age in (("procedure-9.1.2", 12), ("procedure-8.2.1", 12), ("notice-revision", 8)):
        document = Document.objects.get(template_key=key)
        first = document.versions.get(label="1.0")
        _approve(first, quality, analyst, months_ago(age))
        versions += 1
    communication = Document.objects.get(template_key="procedure-8.2.1")
    revised = services.create_version(
        communication,
        actor=quality,
        label="1.1",
        body=communication.versions.get(label="1.0").body.replace(
            "on the same day.", "on the same day, and calls about orders within two hours."
        ),
        change_summary="Calls about orders are logged within two hours.",
    )
    _approve(revised, quality, analyst, months_ago(2))
    versions += 1
    satisfaction = Document.objects.get(template_key="procedure-9.1.2")
    acknowledgements = 0
    for person in staff:
        for document in (satisfaction, communication):
            current = services.current_version(document)
            assert current is not None  # noqa: S101 - approved just above
            # The 8.2.1 revision is recent: the first person read it, the second has not.
            if document == communication and person != staff[0]:
                continue
            services.acknowledge(current, actor=person, at=current.approved_at)
            acknowledgements += 1

    customers = list(Customer.objects.filter(status="active").order_by("number"))
    distributions = 0
    for title, kind, clauses, history in SPEC_DOCUMENTS:
        document = Document.objects.create(
            title=title, kind=kind, clauses=clauses, owner_role="quality_manager"
        )
        approvals = [months_ago(m) for _, m, _, _ in history if m is not None]
        for index, (label, months, summary, text) in enumerate(history):
            version = services.create_version(
                document, actor=quality, label=label, body=text, change_summary=summary
            )
            versions += 1
            if months is None:
                services.submit(version, actor=quality)  # waits in review
                continue
            start = approvals[index]
            _approve(version, quality, analyst, start)
            # Copies given while this version was current (quotes, visits, orders),
            # recorded before the next one is approved: a superseded one is never sent.
            end = approvals[index + 1] if index + 1 < len(approvals) else now
            span = (end - start).total_seconds()
            for customer in rng.sample(customers, k=min(len(customers), rng.randint(6, 14))):
                at = start + dt.timedelta(seconds=rng.uniform(0.05, 0.95) * span)
                contact = customer.contacts.order_by("-is_primary", "pk").first()
                services.record_distribution(
                    services.Provision(
                        version=version,
                        customer=customer,
                        contact=contact,
                        at=at,
                        occasion=rng.choice([Occasion.QUOTE, Occasion.BY_HAND, Occasion.ORDER]),
                        reason=rng.choice(
                            [
                                "Asked for the current data sheet",
                                "Sent with the quotation",
                                "Handed over at the supplier review",
                                "Attached to the order confirmation",
                            ]
                        ),
                        reference=f"Q-{rng.randint(10000, 99999)}",
                    ),
                    actor=rng.choice(staff) if staff else quality,
                )
                distributions += 1
    return (
        f"{Document.objects.count()} documents, {versions} versions approved or in review, "
        f"{distributions} copies to customers, {acknowledgements} acknowledgements"
    )
