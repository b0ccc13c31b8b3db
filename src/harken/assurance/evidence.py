"""The evidence pack: one ZIP for a period that answers the auditor's requests.

It holds an `index.html` mapping each clause requirement to its evidence, the
perception source register as of the period's end, the review packs issued and the
minutes, the action log with effectiveness results, a sample of traces, the import
batches with their file hashes, CSV and XLSX of the registers, the audit events of the
period, a manifest with every file's SHA-256, and the audit-trail proof: the chain
verified at export time and the hash of its last event, so anyone can later check
that nothing was altered since. Apps that hold other evidence (documents,
communications, orders, property) add their parts through `core.registry`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from harken.core import audit
from harken.core.exports import neutralise
from harken.core.files import store_file
from harken.core.models import AuditEvent
from harken.core.tables import text_of

from .models import EvidenceExport

# Clause requirements and what answers each (the index's rows).
CLAUSES = (
    ("8.2.1 a", "Providing information relating to products and services"),
    ("8.2.1 b", "Handling enquiries, contracts or orders, including changes"),
    ("8.2.1 c", "Obtaining customer feedback, including complaints"),
    ("8.2.1 d", "Handling or controlling customer property"),
    ("8.2.1 e", "Specific requirements for contingency actions"),
    (
        "9.1.2",
        "Monitoring customers' perceptions of the degree to which needs and expectations are fulfilled",
    ),
    ("9.3.2 c", "Management review input: customer satisfaction and feedback, trends"),
    ("10.2", "Nonconformity and corrective action, and the effectiveness of actions taken"),
    ("7.5", "Control of documented information: the audit trail"),
)


@dataclass
class Part:
    """Files for one clause requirement."""

    clause: str
    title: str
    files: dict[str, bytes] = field(default_factory=dict)
    note: str = ""


# An app's contribution: fn(start, end) -> list[Part]
Contributor = Callable[[dt.date, dt.date], list[Part]]
CONTRIBUTORS: list[Contributor] = []


def contributes(fn: Contributor) -> Contributor:
    CONTRIBUTORS.append(fn)
    return fn


def csv_bytes(header: list[str], rows: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise(text_of(v)) for v in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: list[str], rows: Iterable[Iterable[Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for row in rows:
        sheet.append([neutralise(text_of(v)) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def register_files(name: str, header: list[str], rows: list[list[Any]]) -> dict[str, bytes]:
    return {
        f"registers/{name}.csv": csv_bytes(header, rows),
        f"registers/{name}.xlsx": xlsx_bytes(header, rows, name),
    }


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz),
    )


# --------------------------------------------------------------------------------------
# What assurance itself gathers
# --------------------------------------------------------------------------------------


@contributes
def perception(start: dt.date, end: dt.date) -> list[Part]:
    from harken.feedback.models import FeedbackItem, ImportBatch
    from harken.feedback.register import register_as_of

    lo, hi = bounds(start, end)
    register = register_as_of(end)
    header = [
        "Source",
        "Kind",
        "Structured",
        "Owner role",
        "Collection method",
        "Fields captured",
        "Stored in",
        "Retention",
        "In scope",
        "Scope rationale",
        "Third party",
        "Active",
    ]
    rows = [
        [
            s.name,
            s.get_kind_display(),
            s.structured,
            s.get_owner_role_display(),
            s.collection_method,
            s.fields_captured,
            s.storage_location,
            s.retention,
            s.in_scope,
            s.scope_rationale,
            s.third_party,
            s.active,
        ]
        for s in register.sources
    ]
    files = {
        f"register/perception_sources_{end}.csv": csv_bytes(header, rows),
        f"register/perception_sources_{end}.xlsx": xlsx_bytes(header, rows, "Register"),
    }
    items = FeedbackItem.objects.filter(received_at__gte=lo, received_at__lt=hi).select_related(
        "source", "customer", "category", "product_line"
    )
    item_rows = [
        [
            i.number,
            i.complaint_number or "",
            i.received_at,
            i.get_kind_display(),
            i.source.name,
            i.customer.name if i.customer else "",
            i.product_line.name if i.product_line else "",
            i.category.name if i.category else "",
            i.classification_confirmed,
            i.impact,
            i.score,
            i.scale,
            i.sentiment_label,
            i.get_status_display(),
            i.acknowledged_at,
            i.resolved_at,
        ]
        for i in items.iterator(chunk_size=2000)
    ]
    files.update(
        register_files(
            "feedback_items",
            [
                "Number",
                "Complaint",
                "Received",
                "Kind",
                "Source",
                "Customer",
                "Product line",
                "Category",
                "Confirmed",
                "Impact",
                "Score",
                "Scale",
                "Sentiment",
                "Status",
                "Acknowledged",
                "Resolved",
            ],
            item_rows,
        )
    )
    batches = ImportBatch.objects.filter(created_at__gte=lo, created_at__lt=hi).select_related(
        "file", "source"
    )
    files["imports/import_batches.csv"] = csv_bytes(
        [
            "Batch",
            "Source",
            "File",
            "File SHA-256",
            "Preset",
            "Rows read",
            "Created",
            "Duplicates",
            "Rejected",
            "Digest of created rows",
            "Status",
            "When",
        ],
        [
            [
                b.number,
                b.source.name,
                b.file.name,
                b.file.sha256,
                b.preset,
                b.rows_read,
                b.created_count,
                b.duplicate_count,
                b.rejected_count,
                b.rows_digest,
                b.get_status_display(),
                b.created_at,
            ]
            for b in batches
        ],
    )
    return [
        Part(
            "9.1.2",
            "Perception source register as of the period's end",
            {k: v for k, v in files.items() if k.startswith("register/")},
            note=f"Version {register.version} (last audit event included). "
            + " ".join(register.warnings),
        ),
        Part(
            "8.2.1 c",
            "Feedback received in the period, and the import batches with their file hashes",
            {k: v for k, v in files.items() if not k.startswith("register/")},
        ),
    ]


@contributes
def reviews(start: dt.date, end: dt.date) -> list[Part]:
    from harken.reviews.models import ReviewMeeting, ReviewPack

    files: dict[str, bytes] = {}
    packs = ReviewPack.objects.exclude(status="draft").filter(
        period_end__gte=start, period_start__lte=end
    )
    for pack in packs.select_related("html_file", "pdf_file"):
        for evidence in (pack.html_file, pack.pdf_file):
            if evidence is not None:
                with evidence.open() as handle:
                    files[f"reviews/{evidence.name}"] = handle.read()
    meetings = ReviewMeeting.objects.filter(held_on__gte=start, held_on__lte=end).prefetch_related(
        "attendees", "decisions"
    )
    for meeting in meetings:
        files[f"reviews/minutes_{meeting.number}.html"] = render_to_string(
            "assurance/evidence_minutes.html", {"meeting": meeting}
        ).encode()
    management = [p for p in packs if p.kind == "management"]
    return [
        Part("9.1.2", "Review packs issued and review minutes", files),
        Part(
            "9.3.2 c",
            "Management review input",
            {k: v for k, v in files.items() if any(p.number in k for p in management)},
            note="" if management else "No management review input was issued in the period.",
        ),
    ]


@contributes
def actions(start: dt.date, end: dt.date) -> list[Part]:
    from harken.actions.models import Action, Theme

    # The whole log as it stands at export: an action opened after the period may answer
    # a complaint received in it, and the log's columns date every step.
    relevant = Action.objects.select_related("owner", "effectiveness_check").order_by("pk")
    rows = []
    for a in relevant:
        check = getattr(a, "effectiveness_check", None)
        rows.append(
            [
                a.number,
                a.get_kind_display(),
                a.title,
                a.owner.get_username(),
                a.created_at,
                a.due_date,
                a.get_status_display(),
                a.root_cause,
                check.get_metric_display() if check else "",
                check.get_proposed_verdict_display() if check and check.proposed_verdict else "",
                check.get_verdict_display() if check and check.verdict else "",
                check.explanation if check else "",
                a.closed_at,
            ]
        )
    header = [
        "Action",
        "Kind",
        "Title",
        "Owner",
        "Opened",
        "Due",
        "Status",
        "Root cause",
        "Effectiveness metric",
        "Proposed verdict",
        "Confirmed verdict",
        "What the data showed",
        "Closed",
    ]
    files = register_files("action_log", header, rows)
    theme_rows = []
    for t in Theme.objects.prefetch_related("dispositions"):
        d = t.current_disposition()
        theme_rows.append(
            [
                t.number,
                t.title,
                d.get_decision_display() if d else "",
                d.rationale if d else "",
                d.approver.get_username() if d else "",
                d.decided_on if d else "",
            ]
        )
    files.update(
        register_files(
            "themes",
            ["Theme", "Title", "Disposition", "Rationale", "Approver", "Decided on"],
            theme_rows,
        )
    )
    return [
        Part(
            "10.2",
            "Action log with root causes and effectiveness results; themes and their dispositions",
            files,
        )
    ]


@contributes
def traces(start: dt.date, end: dt.date) -> list[Part]:
    from harken.feedback.models import FeedbackItem

    from .graph import render
    from .trace import trace_for

    lo, hi = bounds(start, end)
    sample = (
        FeedbackItem.objects.filter(kind="complaint", received_at__gte=lo, received_at__lt=hi)
        .filter(actions__isnull=False)
        .distinct()
        .order_by("pk")[:5]
    )
    extra = FeedbackItem.objects.filter(
        kind="complaint", received_at__gte=lo, received_at__lt=hi
    ).order_by("-pk")[:5]
    files = {}
    for item in [*sample, *extra]:
        trace = trace_for(item)
        files[f"traces/trace_{item.complaint_number or item.number}.html"] = render_to_string(
            "assurance/trace_document.html",
            {"trace": trace, "subject": item, "graph": render(trace)},
        ).encode()
    return [
        Part(
            "10.2",
            "A sample of traces from complaint to effectiveness",
            files,
            note="Complaints that led to actions first, then the latest complaints.",
        )
    ]


def audit_part(start: dt.date, end: dt.date) -> tuple[Part, dict[str, Any]]:
    from harken.core.audit import verify_chain

    lo, hi = bounds(start, end)
    result = verify_chain()
    events = AuditEvent.objects.filter(at__gte=lo, at__lt=hi).order_by("seq")
    files = {
        "audit/audit_events.csv": csv_bytes(
            [
                "Seq",
                "Time (UTC)",
                "Actor",
                "Action",
                "Object type",
                "Object id",
                "Object",
                "Changes",
                "Request",
                "Previous hash",
                "Hash",
            ],
            (
                [
                    e.seq,
                    e.at,
                    e.actor_label,
                    e.action,
                    e.object_type,
                    e.object_id,
                    e.object_label,
                    json.dumps(e.changes, ensure_ascii=False)[:2000],
                    e.request_id,
                    e.prev_hash,
                    e.hash,
                ]
                for e in events.iterator(chunk_size=5000)
            ),
        )
    }
    proof = {
        "verified_at": timezone.now().isoformat(),
        "events_verified": result.count,
        "ok": result.ok,
        "broken_seq": result.broken_seq,
        "reason": result.reason,
        "head_seq": result.count,
        "head_hash": result.head_hash,
        "how_to_check": (
            "Run `harken audit verify` later: the event with sequence number head_seq must "
            "still carry head_hash, and the chain must verify."
        ),
    }
    files["audit/proof.json"] = json.dumps(proof, indent=2).encode()
    return Part(
        "7.5", "Audit-trail proof: chain verified at export and its head hash", files
    ), proof


def build_zip(start: dt.date, end: dt.date) -> tuple[bytes, dict[str, Any], list[Part]]:
    parts: list[Part] = []
    for contributor in [*CONTRIBUTORS, *registry_contributors()]:
        parts.extend(contributor(start, end))
    proof_part, proof = audit_part(start, end)
    parts.append(proof_part)
    files: dict[str, bytes] = {}
    for part in parts:
        files.update(part.files)
    by_clause = {clause: [p for p in parts if p.clause == clause] for clause, _ in CLAUSES}
    index = render_to_string(
        "assurance/evidence_index.html",
        {
            "company": settings.COMPANY_NAME,
            "start": start,
            "end": end,
            "clauses": [(clause, text, by_clause.get(clause, [])) for clause, text in CLAUSES],
            "proof": proof,
            "generated": timezone.now(),
        },
    ).encode()
    files["index.html"] = index
    manifest = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return buffer.getvalue(), proof, parts


def registry_contributors() -> list[Contributor]:
    from harken.core.registry import registry

    return list(getattr(registry, "evidence", []))


def export(start: dt.date, end: dt.date) -> EvidenceExport:
    """Build the ZIP, keep it as evidence, and record the export (with the chain head)."""
    if start > end:
        raise ValueError("The period ends before it starts.")
    data, proof, parts = build_zip(start, end)
    evidence = store_file(
        io.BytesIO(data),
        name=f"evidence_{start}_{end}.zip",
        content_type="application/zip",
        purpose="evidence pack",
    )
    record = EvidenceExport.objects.create(
        period_start=start,
        period_end=end,
        file=evidence,
        chain_head_seq=proof["head_seq"],
        chain_head_hash=proof["head_hash"],
    )
    audit.record(
        "evidence.exported",
        record,
        changes={
            "sha256": evidence.sha256,
            "files": sum(len(p.files) for p in parts) + 2,
            "chain_head": proof["head_hash"],
        },
    )
    return record
