"""The demo company's customers: a contract manufacturer's 300 accounts, from a seed."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model

from .choices import CustomerStatus, OfferingKind, Segment
from .models import Contact, Customer, ProductLine, Region

REGIONS = (
    ("UKI", "UK & Ireland"),
    ("DACH", "Central Europe"),
    ("NORD", "Nordics"),
    ("NAM", "North America"),
    ("APAC", "Asia Pacific"),
)

PRODUCT_LINES = (
    ("VAL", "Industrial Valves", OfferingKind.PRODUCT, "Ball, gate and control valves to drawing."),
    ("HYD", "Hydraulic Fittings", OfferingKind.PRODUCT, "Couplings, adaptors and manifolds."),
    ("MAC", "Precision Machining", OfferingKind.PRODUCT, "CNC turned and milled parts."),
    ("MLD", "Injection Moulding", OfferingKind.PRODUCT, "Technical plastic parts and tooling."),
    ("SHM", "Sheet Metal Fabrication", OfferingKind.PRODUCT, "Enclosures, brackets, panels."),
    ("PCB", "PCB Assembly", OfferingKind.PRODUCT, "SMT and through-hole assembly, test."),
    ("CAL", "Calibration Services", OfferingKind.SERVICE, "Accredited calibration of gauges."),
    ("FLD", "Field Maintenance", OfferingKind.SERVICE, "On-site maintenance contracts."),
)

_FIRST = (
    "Arden",
    "Baltic",
    "Cobalt",
    "Delta",
    "Elm",
    "Fjord",
    "Granite",
    "Harbour",
    "Iron",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Northgate",
    "Orion",
    "Pioneer",
    "Quarry",
    "Redwood",
    "Summit",
    "Tidewater",
    "Upland",
    "Vantage",
    "Westmark",
    "Yardley",
    "Zenith",
    "Beacon",
    "Carrow",
    "Dunmore",
    "Everly",
    "Foxley",
)
_SECOND = (
    "Energy",
    "Pumps",
    "Automation",
    "Foods",
    "Marine",
    "Robotics",
    "Medical",
    "Rail",
    "Water",
    "Aerospace",
    "Mining",
    "Packaging",
    "Pharma",
    "Power",
    "Motion",
)
_LEGAL = {
    "UKI": ("Ltd", "plc"),
    "DACH": ("GmbH", "AG"),
    "NORD": ("AB", "AS", "Oy"),
    "NAM": ("Inc.", "LLC", "Corp."),
    "APAC": ("Pty Ltd", "Pte Ltd", "K.K."),
}
_GIVEN = (
    "Alex",
    "Maria",
    "Jonas",
    "Aisha",
    "Liam",
    "Sofia",
    "Kenji",
    "Elena",
    "Noah",
    "Freya",
    "Mateo",
    "Hannah",
    "Ravi",
    "Ingrid",
    "Tom",
    "Mei",
    "Lukas",
    "Chloe",
    "Diego",
    "Nora",
)
_FAMILY = (
    "Schmidt",
    "Nilsson",
    "O'Brien",
    "Tanaka",
    "Novak",
    "Garcia",
    "Walsh",
    "Berg",
    "Chen",
    "Müller",
    "Patel",
    "Larsen",
    "Rossi",
    "Kim",
    "Dubois",
    "Evans",
    "Haddad",
    "Ivanova",
)
_TITLES = (
    "Purchasing Manager",
    "Supplier Quality Engineer",
    "Plant Manager",
    "Buyer",
    "Head of Operations",
    "Maintenance Lead",
    "Project Engineer",
    "Category Manager",
)
SEGMENT_WEIGHTS = (
    (Segment.KEY_ACCOUNT, 0.08),
    (Segment.STRATEGIC, 0.17),
    (Segment.STANDARD, 0.6),
    (Segment.DISTRIBUTOR, 0.15),
)
CUSTOMER_COUNT = 300


def build_customers(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed)  # noqa: S311 - demo data: reproducible, not secret
    regions = [Region.objects.create(code=code, name=name) for code, name in REGIONS]
    lines = [
        ProductLine.objects.create(code=code, name=name, kind=kind, description=text)
        for code, name, kind, text in PRODUCT_LINES
    ]
    owners = list(
        get_user_model().objects.filter(groups__name="customer_facing").order_by("username")
    )
    segments = [s for s, _ in SEGMENT_WEIGHTS]
    weights = [w for _, w in SEGMENT_WEIGHTS]
    used: set[str] = set()
    contacts = 0
    for _ in range(CUSTOMER_COUNT):
        region = rng.choices(regions, weights=(0.3, 0.25, 0.12, 0.2, 0.13))[0]
        name = ""
        while not name or name in used:
            name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_LEGAL[region.code])}"
        used.add(name)
        domain = name.split()[0].lower() + "-" + name.split()[1].lower() + ".example"
        customer = Customer.objects.create(
            name=name,
            segment=rng.choices(segments, weights=weights)[0],
            region=region,
            account_owner=rng.choice(owners) if owners else None,
            status=rng.choices(
                [CustomerStatus.ACTIVE, CustomerStatus.INACTIVE, CustomerStatus.PROSPECT],
                weights=(0.88, 0.07, 0.05),
            )[0],
            email_domain=domain,
            customer_since=dt.date(rng.randint(2012, 2025), rng.randint(1, 12), 1),
            external_ref=f"ERP-{rng.randint(10000, 99999)}",
        )
        customer.product_lines.add(*rng.sample(lines, k=rng.randint(1, 3)))
        for index in range(rng.randint(1, 4)):
            given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
            local = f"{given}.{family}".lower().replace("'", "").replace("ü", "ue")
            Contact.objects.get_or_create(
                customer=customer,
                email=f"{local}@{domain}",
                defaults={
                    "name": f"{given} {family}",
                    "job_title": rng.choice(_TITLES),
                    "phone": f"+44 20 7{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    "is_primary": index == 0,
                },
            )
            contacts += 1
    return (
        f"{len(regions)} regions, {len(lines)} product lines, "
        f"{CUSTOMER_COUNT} customers, {contacts} contacts"
    )
