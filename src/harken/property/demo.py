"""Demo customer property: what a contract manufacturer holds for its customers.

The story: moulding and machining customers lent us tools, fixtures and drawings; a
calibration customer's master gauge came and went back with their acknowledgement; a
field-service customer gave us a data set with a retention period and a VPN account
(recorded, never its password); one customer's castings were damaged by a forklift,
which became an incident, a notification by e-mail and a corrective action; a test
gauge set is overdue for return, an old data extract is past its retention; an
inventory check of the tool store two months ago saw everything.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zlib
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from harken.communications import services as communications
from harken.communications.choices import Channel, Direction, Phase
from harken.customers.models import Customer

from . import services
from .choices import Confidentiality, CustodyKind, EndAction, IncidentKind, PropertyKind, Severity
from .models import PropertyItem


def png(shade: int, size: int = 16) -> bytes:
    """A small grey square as a PNG: a stand-in for a photo of the item's condition."""
    raw = b"".join(b"\x00" + bytes([shade]) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def photo(name: str, shade: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png(shade), content_type="image/png")


def document(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/plain")


def pick(rng: random.Random, code: str, taken: set[int]) -> Customer:
    """An active customer buying from product line `code` (any active one without)."""
    candidates = list(
        Customer.objects.filter(status="active", product_lines__code=code)
        .exclude(pk__in=taken)
        .order_by("number")[:40]
    ) or list(
        Customer.objects.filter(status="active").exclude(pk__in=taken).order_by("number")[:40]
    )
    customer = rng.choice(candidates)
    taken.add(customer.pk)
    return customer


def first_order(taken: set[int]) -> Any:
    """The first order of the demo (orders is built before property), if the app is there."""
    try:
        order_model = apps.get_model("orders", "Order")
    except LookupError:
        return None
    return (
        order_model.objects.exclude(customer_id__in=taken)
        .select_related("customer")
        .order_by("number")
        .first()
    )


def build_property(*, seed: int, stdout: Any = None) -> str:
    rng = random.Random(seed + 29)  # noqa: S311 - demo data: reproducible, not secret
    User = get_user_model()
    quality = User.objects.get(username="quality")
    sales = User.objects.get(username="sales")
    support = User.objects.get(username="support")
    owner = User.objects.get(username="owner")
    now = timezone.now()
    today = timezone.localdate(now)

    def ago(days: float, hour: int = 10) -> dt.datetime:
        moment = timezone.localtime(now - dt.timedelta(days=days))
        return moment.replace(hour=hour, minute=rng.randint(0, 59), second=0, microsecond=0)

    taken: set[int] = set()
    moulding, machining = pick(rng, "MLD", taken), pick(rng, "MAC", taken)
    calibration, service = pick(rng, "CAL", taken), pick(rng, "FLD", taken)
    # The castings came with an order of the demo's orders when there is one.
    order = first_order(taken)
    valves = order.customer if order is not None else pick(rng, "VAL", taken)
    taken.add(valves.pk)
    electronics = pick(rng, "PCB", taken)

    def item(customer: Customer, **values: Any) -> PropertyItem:
        return services.register_item(actor=quality, customer=customer, **values)

    def event(target: PropertyItem, kind: str, at: dt.datetime, **values: Any) -> None:
        values.setdefault("performed_by", sales)
        services.record_custody(target, actor=quality, kind=kind, occurred_at=at, **values)

    # A moulding tool: received, stored, issued to production runs, back in the store.
    mould = item(
        moulding,
        kind=PropertyKind.TOOLING,
        name="Injection mould, 4-cavity, housing cover",
        identifiers="Tool no. T-4471-A\nAsset tag of the customer: AT-00917",
        quantity=1,
        unit="tool",
        order_reference="Supply agreement SA-2025-04",
        storage_conditions="Dry store, 15–25 °C; cavities oiled and closed; on its pallet.",
        handling_instructions="Crane lift only (1.2 t); never stack.",
        access_restrictions="Toolroom and moulding cell 2 staff.",
        confidentiality=Confidentiality.CONFIDENTIAL,
        storage_location="Tool store, rack T3",
        permitted_use="Moulding of the customer's housing covers only.",
        end_action=EndAction.RETURN,
        due_date=today + dt.timedelta(days=120),
        review_days=90,
    )
    event(
        mould,
        CustodyKind.RECEIVED,
        ago(300),
        to_location="Tool store, rack T3",
        condition="Complete; cavity 3 shows light wear marks on the parting line (photographed).",
        files=[photo("mould-receipt.png", 150)],
        caption="Condition on receipt: parting line of cavity 3",
    )
    for start in (240, 150, 60):
        event(
            mould,
            CustodyKind.ISSUED,
            ago(start),
            to_holder="Moulding cell 2",
            to_location="Moulding hall, press 5",
            purpose="Production run for the customer's call-off",
        )
        event(mould, CustodyKind.MOVED, ago(start - 5, 15), to_location="Tool store, rack T3")

    # A drilling fixture in use in the CNC cell.
    fixture = item(
        machining,
        kind=PropertyKind.TOOLING,
        name="Drilling fixture for flange 7741",
        identifiers="Fixture FX-7741-02",
        storage_conditions="Clean, covered when not in use.",
        handling_instructions="Check the locating pins before each set-up.",
        storage_location="Tool store, rack T1",
        permitted_use="Drilling of flange 7741 for this customer.",
        end_action=EndAction.RETURN,
    )
    event(
        fixture,
        CustodyKind.RECEIVED,
        ago(200),
        to_location="Tool store, rack T1",
        condition="As new; locating pins measured within tolerance.",
    )
    # An inventory check of the rack two months ago: the fixture was seen.
    services.record_inventory_check(
        actor=quality,
        seen=[fixture],
        missing=[],
        performed_at=ago(58, 16),
        location="Tool store, rack T1",
        notes="Quarterly check of the tool store.",
    )
    event(
        fixture,
        CustodyKind.ISSUED,
        ago(20),
        to_user=owner,
        to_holder="CNC cell 3",
        to_location="Machine shop",
        purpose="Set-up for the flange 7741 batch",
    )

    # Drawings from two customers: information, kept on the document share.
    drawings = item(
        machining,
        kind=PropertyKind.DRAWING,
        name="Drawing set, flange 7741 rev C",
        identifiers="7741-01 rev C, 7741-02 rev C (PDF)\nSHA-256 of the set: 3b7c…e19a",
        storage_conditions="Document share, customer folder; no local copies.",
        access_restrictions="Engineering and the machine shop leads.",
        confidentiality=Confidentiality.STRICTLY_CONFIDENTIAL,
        storage_location="DMS / Customers / drawings",
        permitted_use="Manufacture and inspection of the customer's orders only.",
        end_action=EndAction.DESTROY,
    )
    event(
        drawings,
        CustodyKind.RECEIVED,
        ago(210),
        to_location="DMS / Customers / drawings",
        condition="Complete and legible; revision C confirmed against the order.",
    )
    valve_model = item(
        valves,
        kind=PropertyKind.DRAWING,
        name="3D model of valve body DN80 rev D",
        identifiers="STEP file VB-DN80-D",
        storage_conditions="Document share, customer folder.",
        access_restrictions="Engineering only.",
        confidentiality=Confidentiality.CONFIDENTIAL,
        storage_location="DMS / Customers / drawings",
        permitted_use="Quotation and machining programmes.",
        end_action=EndAction.DESTROY,
    )
    event(
        valve_model,
        CustodyKind.RECEIVED,
        ago(100),
        to_location="DMS / Customers / drawings",
        condition="Opens without errors; revision D.",
    )
    event(
        valve_model,
        CustodyKind.ACCESSED,
        ago(40),
        performed_by=owner,
        purpose="CAM programming of the DN80 valve body",
    )

    # A data set with a retention period, accessed for analysis; an older one past it.
    dataset = item(
        service,
        kind=PropertyKind.DATA,
        name="Field failure records 2024–2025 (CSV export)",
        identifiers="field-failures-2025.csv, SHA-256 9f2a…41c0, 18,204 rows",
        storage_conditions="Encrypted share; no copies on laptops.",
        access_restrictions="Quality analysts only.",
        confidentiality=Confidentiality.CONFIDENTIAL,
        storage_location="Analysis share / customer data",
        permitted_use="Reliability analysis for the customer's maintenance contract.",
        end_action=EndAction.DESTROY,
        retain_until=today + dt.timedelta(days=75),
    )
    event(
        dataset,
        CustodyKind.RECEIVED,
        ago(90),
        to_location="Analysis share / customer data",
        condition="Complete: the row count and the hash match the customer's transfer note.",
    )
    event(
        dataset,
        CustodyKind.ACCESSED,
        ago(30),
        performed_by=User.objects.get(username="analyst"),
        purpose="Weibull analysis of pump seal failures for the quarterly review",
    )
    old_extract = item(
        service,
        kind=PropertyKind.DATA,
        name="Site contact list for the 2025 service survey",
        identifiers="contacts-2025.xlsx",
        storage_conditions="Encrypted share.",
        access_restrictions="Support team.",
        confidentiality=Confidentiality.CONFIDENTIAL,
        storage_location="Analysis share / customer data",
        permitted_use="Sending the 2025 service survey.",
        end_action=EndAction.DESTROY,
        retain_until=today - dt.timedelta(days=6),
    )
    event(
        old_extract,
        CustodyKind.RECEIVED,
        ago(160),
        to_location="Analysis share / customer data",
        condition="1 file, 212 contacts.",
    )

    # Credentials: that they exist, who holds them, when they are revoked — no secret.
    vpn = item(
        service,
        kind=PropertyKind.CREDENTIALS,
        name="Remote service VPN account",
        identifiers="Account name on the customer's VPN: svc-harken-field",
        storage_conditions="Held in the company password vault, entry 'customer VPN'.",
        access_restrictions="Named field engineers only; MFA token issued to the holder.",
        confidentiality=Confidentiality.STRICTLY_CONFIDENTIAL,
        permitted_use="Remote diagnosis under the maintenance contract.",
        end_action=EndAction.DESTROY,
        review_days=90,
    )
    event(
        vpn,
        CustodyKind.RECEIVED,
        ago(120),
        to_location="Company password vault",
        condition="Account works; access limited to the pump controllers' network.",
    )
    event(
        vpn,
        CustodyKind.ISSUED,
        ago(118),
        to_user=support,
        purpose="Holder of the account for remote diagnosis",
    )
    event(
        vpn,
        CustodyKind.ACCESSED,
        ago(12),
        performed_by=support,
        purpose="Diagnosis of alarm 214 at the customer's site",
    )

    # A master gauge calibrated and returned, with the customer's acknowledgement.
    gauge = item(
        calibration,
        kind=PropertyKind.PHYSICAL,
        name="Master ring gauge Ø50 H7",
        identifiers="Serial MRG-50-00318",
        storage_conditions="Calibration lab, 20 ± 1 °C, in its case.",
        handling_instructions="Gloves; never set down on the bore.",
        storage_location="Calibration lab, cabinet 2",
        permitted_use="Calibration of the customer's gauge only.",
        end_action=EndAction.RETURN,
        due_date=today - dt.timedelta(days=30),
    )
    event(
        gauge,
        CustodyKind.RECEIVED,
        ago(80),
        to_location="Calibration lab, cabinet 2",
        condition="Case intact; no visible damage to the bore.",
        files=[photo("gauge-receipt.png", 200)],
    )
    event(
        gauge,
        CustodyKind.USED,
        ago(70),
        performed_by=owner,
        purpose="Calibration against our reference, certificate C-2291",
    )
    acknowledgement = communications.log_communication(
        communications.Entry(
            customer=calibration,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            subject="Master ring gauge received back",
            body="The gauge MRG-50-00318 arrived today in good order with its certificate. Thank you.",
            occurred_at=ago(60, 14),
            phase=Phase.PROPERTY,
        ),
        actor=quality,
    )
    event(
        gauge,
        CustodyKind.RETURNED,
        ago(60, 16),
        to_location=f"{calibration.name}, goods-in",
        acknowledgement=acknowledgement,
        files=[
            document(
                "delivery-note-DN-55120.txt",
                "Delivery note DN-55120: 1 master ring gauge, signed for by the customer.",
            )
        ],
        note="Returned by courier with the calibration certificate.",
    )

    # Overdue for return: a test gauge set past its due date, still in the lab.
    test_set = item(
        valves,
        kind=PropertyKind.PHYSICAL,
        name="Pressure test adaptor set",
        identifiers="Set PT-80-3 (3 adaptors)",
        quantity=3,
        unit="pcs",
        storage_conditions="Test bay shelf, capped.",
        storage_location="Test bay",
        permitted_use="Pressure testing of the customer's valves.",
        end_action=EndAction.RETURN,
        due_date=today - dt.timedelta(days=9),
    )
    event(
        test_set,
        CustodyKind.RECEIVED,
        ago(70),
        to_location="Test bay",
        condition="3 adaptors, threads clean.",
    )

    # Damaged: customer-supplied castings hit by a forklift; told, acted on, closed.
    castings = item(
        valves,
        kind=PropertyKind.PHYSICAL,
        name="Customer-supplied valve body castings, lot 2291",
        identifiers="Lot 2291, 40 castings",
        quantity=40,
        unit="pcs",
        order=order,
        order_reference="PO 4500-8812",
        storage_conditions="Goods-in bay, on pallets, under cover.",
        handling_instructions="Forklift with padded forks; max. two pallets high.",
        storage_location="Goods-in bay B",
        permitted_use="Machining into valve bodies for this order.",
        end_action=EndAction.RETURN,
    )
    event(
        castings,
        CustodyKind.RECEIVED,
        ago(45),
        to_location="Goods-in bay B",
        condition="40 castings counted; no visible damage.",
        files=[photo("castings-receipt.png", 120)],
    )
    incident = services.record_incident(
        castings,
        actor=quality,
        kind=IncidentKind.DAMAGE,
        severity=Severity.HIGH,
        what_happened="A forklift reversing in the goods-in bay struck the pallet; 6 castings cracked.",
        impact="6 of 40 castings scrap; the customer's order of 40 valve bodies is 6 short.",
        immediate_action="Damaged castings quarantined; remaining 34 inspected, no cracks.",
        occurred_at=ago(41, 7),
        discovered_at=ago(41, 8),
    )
    contact = valves.contacts.order_by("pk").first()
    services.notify_customer(
        incident,
        actor=quality,
        channel=Channel.EMAIL,
        subject=f"Damage to your castings, lot 2291 ({incident.number})",
        body=(
            "We must inform you that 6 of the 40 castings of lot 2291 you supplied were "
            "damaged in our goods-in area. The other 34 are inspected and sound. We propose "
            "to machine the 34 now and to cover the replacement castings."
        ),
        contacts=[contact] if contact else [],
        occurred_at=ago(41, 11),
    )
    services.open_corrective_action(
        incident,
        actor=quality,
        owner=owner,
        due_date=today + dt.timedelta(days=20),
        title="Protect customer-supplied material in the goods-in bay",
    )
    event(
        castings,
        CustodyKind.ISSUED,
        ago(33),
        to_holder="Machine shop, valve body cell",
        to_location="Machine shop",
        purpose="Machining of the 34 sound castings and the 6 replacements the customer sent",
        note="6 replacement castings received on the same pallet; the 6 cracked ones go back with the order.",
    )
    services.close_incident(
        incident,
        actor=quality,
        resolution="Customer sent 6 replacement castings at our cost; order delivered complete.",
    )

    # Expected: components the electronics customer is sending for their boards.
    services.register_item(
        actor=sales,
        customer=electronics,
        kind=PropertyKind.PHYSICAL,
        name="Customer-supplied microcontrollers for board 220-B",
        identifiers="Reel, 2,000 pcs, date code 2541",
        quantity=2000,
        unit="pcs",
        storage_conditions="Dry cabinet, < 10 % RH (moisture sensitivity level 3).",
        handling_instructions="ESD-protected area only.",
        storage_location="Dry cabinet DC-2",
        permitted_use="Assembly of board 220-B for this customer.",
        end_action=EndAction.RETURN,
    )

    count = PropertyItem.objects.count()
    customers = PropertyItem.objects.values("customer").distinct().count()
    return (
        f"{count} property items of {customers} customers (tooling, drawings, data, credentials), "
        "1 returned with acknowledgement, 1 damaged with its incident, notification and action"
    )
