"""What orders answers the auditor: readiness questions, and the evidence pack's parts for
8.2.1 b (enquiries, contracts, orders and changes) and 8.2.1 e (contingency actions).

Registered from `OrdersConfig.ready()`; assurance asks them without knowing this app.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from harken.core.registry import registry

from .choices import (
    ACCEPTED_ORDER_STATES,
    OPEN_CHANGE_STATES,
    POSITIVE_OUTCOMES,
    ReviewKind,
    ReviewStatus,
)
from .models import (
    ChangeRequest,
    Enquiry,
    Escalation,
    EscalationRule,
    Notice,
    Offer,
    Order,
    RequirementReview,
)

MAX_RECORDS = 50


def link(obj: Any) -> tuple[str, str]:
    return str(obj), obj.get_absolute_url()


def unreviewed_orders() -> Any:
    """Accepted orders without a completed, positive requirement review made before the
    acceptance, or whose differences from the offer were never reviewed."""
    passed = RequirementReview.objects.filter(
        enquiry=OuterRef("enquiry"),
        kind=ReviewKind.INITIAL,
        status=ReviewStatus.COMPLETED,
        outcome__in=POSITIVE_OUTCOMES,
        completed_at__lte=OuterRef("accepted_at"),
    )
    differences = RequirementReview.objects.filter(
        order=OuterRef("pk"),
        kind=ReviewKind.DIFFERENCE,
        status=ReviewStatus.COMPLETED,
        outcome__in=POSITIVE_OUTCOMES,
        completed_at__lte=OuterRef("accepted_at"),
    )
    return (
        Order.objects.filter(status__in=ACCEPTED_ORDER_STATES)
        .annotate(passed=Exists(passed), differences_reviewed=Exists(differences))
        .filter(Q(passed=False) | Q(differs_from_offer=True, differences_reviewed=False))
        .order_by("accepted_at")
    )


def orders_reviewed(now: dt.datetime) -> tuple[int, str, list]:
    missing = unreviewed_orders()
    count = missing.count()
    total = Order.objects.filter(status__in=ACCEPTED_ORDER_STATES).count()
    if count:
        return (
            count,
            f"{count} of {total} accepted orders lack a completed requirement review.",
            [link(o) for o in missing[:MAX_RECORDS]],
        )
    return 0, f"All {total} accepted orders rest on a completed requirement review.", []


def changes_on_time(now: dt.datetime) -> tuple[int, str, list]:
    late = ChangeRequest.objects.filter(
        status__in=OPEN_CHANGE_STATES, confirmation_due__lt=now
    ).order_by("confirmation_due")
    count = late.count()
    if count:
        return (
            count,
            f"{count} order changes are past their confirmation target without the "
            "customer's confirmation.",
            [link(c) for c in late[:MAX_RECORDS]],
        )
    pending = ChangeRequest.objects.filter(status__in=OPEN_CHANGE_STATES).count()
    return 0, f"Every change is confirmed, closed or pending within target ({pending} pending).", []


def breached_without_record(now: dt.datetime) -> Any:
    breached = Q(customer_told_at__isnull=True, notice_due__lt=now) | Q(
        customer_told_at__gt=F("notice_due")
    )
    return Escalation.objects.filter(customer_impacting=True, breach_explanation="").filter(
        breached
    )


def breaches_recorded(now: dt.datetime) -> tuple[int, str, list]:
    missing = breached_without_record(now).order_by("notice_due")
    count = missing.count()
    if count:
        return (
            count,
            f"{count} escalations missed the deadline for telling the customer and do not "
            "record why.",
            [link(e) for e in missing[:MAX_RECORDS]],
        )
    return 0, "No escalation breached its deadline without a record of why.", []


QUESTIONS = (
    (
        "orders_reviewed",
        "Does every accepted order have a completed requirement review?",
        orders_reviewed,
    ),
    (
        "changes_confirmed",
        "Is every order change confirmed by the customer, or pending within its target?",
        changes_on_time,
    ),
    (
        "escalations_recorded",
        "Did no escalation breach its customer-notice deadline without a record?",
        breaches_recorded,
    ),
)


def register_questions() -> None:
    for code, question, check in QUESTIONS:
        registry.add_readiness(code, question, check)


# --------------------------------------------------------------------------------------
# The evidence pack
# --------------------------------------------------------------------------------------


def local(at: dt.datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else ""


def evidence_parts(start: dt.date, end: dt.date) -> list[Any]:
    """Registers for the period, with the acceptance and confirmation files themselves."""
    from harken.assurance.evidence import Part, bounds, register_files

    lo, hi = bounds(start, end)
    files: dict[str, bytes] = {}
    enquiries = (
        Enquiry.objects.filter(received_at__gte=lo, received_at__lt=hi)
        .select_related("customer", "product_line", "received_via", "first_response")
        .order_by("received_at")
    )
    files.update(
        register_files(
            "enquiries",
            [
                "Number",
                "Customer",
                "Product line",
                "Received",
                "Received via",
                "First response due",
                "First responded",
                "Status",
                "Customer property",
            ],
            [
                [
                    e.number,
                    e.customer.name,
                    e.product_line.name if e.product_line else "",
                    local(e.received_at),
                    e.received_via.number if e.received_via else "",
                    local(e.first_response_due),
                    local(e.first_responded_at),
                    e.get_status_display(),
                    e.customer_property,
                ]
                for e in enquiries
            ],
        )
    )
    reviews = (
        RequirementReview.objects.filter(completed_at__gte=lo, completed_at__lt=hi)
        .select_related("enquiry", "order", "reviewer", "evidence")
        .prefetch_related("answers")
        .order_by("completed_at")
    )
    files.update(
        register_files(
            "requirement_reviews",
            [
                "Number",
                "Enquiry",
                "Order",
                "Kind",
                "Round",
                "Reviewer",
                "Completed",
                "Outcome",
                "Conditions / reason",
                "Checklist",
                "Evidence SHA-256",
            ],
            [
                [
                    r.number,
                    r.enquiry.number,
                    r.order.number if r.order else "",
                    r.get_kind_display(),
                    r.round,
                    r.reviewer.get_username() if r.reviewer else "",
                    local(r.completed_at),
                    r.get_outcome_display(),
                    r.conditions or r.decline_reason or r.clarification,
                    "; ".join(f"{a.text} {a.get_answer_display()}" for a in r.answers.all()),
                    r.evidence.sha256 if r.evidence else "",
                ]
                for r in reviews
            ],
        )
    )
    offers = (
        Offer.objects.filter(issued_at__gte=lo, issued_at__lt=hi)
        .select_related("enquiry__customer", "review")
        .order_by("issued_at")
    )
    from harken.documents.services import distributions_via

    files.update(
        register_files(
            "offers",
            ["Number", "Enquiry", "Customer", "Issued", "Review", "Status", "Documents used"],
            [
                [
                    o.number,
                    o.enquiry.number,
                    o.enquiry.customer.name,
                    local(o.issued_at),
                    o.review.number,
                    o.get_status_display(),
                    ", ".join(
                        f"{d.version} ({d.number})" for d in distributions_via(o).order_by("pk")
                    ),
                ]
                for o in offers
            ],
        )
    )
    orders = (
        Order.objects.filter(acceptance_received_at__gte=lo, acceptance_received_at__lt=hi)
        .select_related("customer", "enquiry", "offer", "accepted_by", "acceptance_file")
        .order_by("acceptance_received_at")
    )
    rows = []
    for o in orders:
        evidence = o.acceptance_file
        if evidence is not None:
            with evidence.open() as handle:
                files[f"orders/{o.number}/acceptance_{evidence.name}"] = handle.read()
        rows.append(
            [
                o.number,
                o.customer.name,
                o.enquiry.number,
                o.offer.number if o.offer else "",
                o.get_acceptance_kind_display(),
                o.customer_reference,
                local(o.acceptance_received_at),
                evidence.sha256 if evidence else "",
                o.differs_from_offer,
                o.get_status_display(),
                o.accepted_by.get_username() if o.accepted_by else "",
                local(o.accepted_at),
                o.version,
            ]
        )
    files.update(
        register_files(
            "orders",
            [
                "Number",
                "Customer",
                "Enquiry",
                "Offer",
                "Accepted by the customer with",
                "Customer reference",
                "Acceptance received",
                "Acceptance SHA-256",
                "Differs from offer",
                "Status",
                "Accepted by",
                "Accepted at",
                "Current version",
            ],
            rows,
        )
    )
    changes = (
        ChangeRequest.objects.filter(requested_at__gte=lo, requested_at__lt=hi)
        .select_related("order", "impact_reviewed_by", "communicated_via", "confirmation_file")
        .order_by("requested_at")
    )
    rows = []
    for c in changes:
        evidence = c.confirmation_file
        if evidence is not None:
            with evidence.open() as handle:
                files[f"orders/{c.order.number}/{c.number}_confirmation_{evidence.name}"] = (
                    handle.read()
                )
        rows.append(
            [
                c.number,
                c.order.number,
                c.get_origin_display(),
                c.aspect_labels(),
                local(c.requested_at),
                c.impact_reviewed_by.get_username() if c.impact_reviewed_by else "",
                c.feasible,
                c.communicated_via.number if c.communicated_via else "",
                local(c.confirmed_at),
                evidence.sha256 if evidence else "",
                local(c.confirmation_due),
                c.get_status_display(),
            ]
        )
    files.update(
        register_files(
            "order_changes",
            [
                "Number",
                "Order",
                "Origin",
                "What changes",
                "Requested",
                "Feasibility confirmed by",
                "Feasible",
                "Communicated with",
                "Confirmed",
                "Confirmation SHA-256",
                "Confirmation due",
                "Status",
            ],
            rows,
        )
    )
    contingency: dict[str, bytes] = {}
    contingency.update(
        register_files(
            "escalation_matrix",
            [
                "Event type",
                "Severity",
                "Notice approved by",
                "Escalated to",
                "Customer told within",
                "What must be recorded",
                "Notice template",
                "Active",
            ],
            [
                [
                    r.get_event_type_display(),
                    r.get_severity_display(),
                    r.get_approver_role_display(),
                    r.get_escalate_to_role_display(),
                    r.deadline_text(),
                    r.records_text(),
                    str(r.notice_template) if r.notice_template else "",
                    r.active,
                ]
                for r in EscalationRule.objects.select_related("notice_template")
            ],
        )
    )
    escalations = (
        Escalation.objects.filter(raised_at__gte=lo, raised_at__lt=hi)
        .select_related("customer", "order")
        .order_by("raised_at")
    )
    contingency.update(
        register_files(
            "escalations",
            [
                "Number",
                "Title",
                "Customer",
                "Order",
                "Event",
                "Severity",
                "Raised",
                "Customer to be told by",
                "Customer told",
                "Deadline",
                "Why late",
                "Escalated to",
                "Status",
            ],
            [
                [
                    e.number,
                    e.title,
                    e.customer.name,
                    e.order.number if e.order else "",
                    e.get_event_type_display(),
                    e.get_severity_display(),
                    local(e.raised_at),
                    local(e.notice_due),
                    local(e.customer_told_at),
                    "breached" if e.breached else ("met" if e.deadline_met else ""),
                    e.breach_explanation,
                    ", ".join(e.escalated_to),
                    e.get_status_display(),
                ]
                for e in escalations
            ],
        )
    )
    notices = (
        Notice.objects.filter(escalation__raised_at__gte=lo, escalation__raised_at__lt=hi)
        .select_related(
            "escalation", "template_version__document", "approved_by", "communication", "contact"
        )
        .order_by("pk")
    )
    contingency.update(
        register_files(
            "customer_notices",
            [
                "Number",
                "Escalation",
                "Template",
                "To",
                "Approved by",
                "Approved",
                "Sent",
                "Logged as",
                "Status",
            ],
            [
                [
                    n.number,
                    n.escalation.number,
                    str(n.template_version),
                    n.contact.email,
                    n.approved_by.get_username() if n.approved_by else "",
                    local(n.approved_at),
                    local(n.sent_at),
                    n.communication.number if n.communication else "",
                    n.get_status_display(),
                ]
                for n in notices
            ],
        )
    )
    return [
        Part(
            "8.2.1 b",
            "Enquiries, requirement reviews, offers, orders with their acceptance evidence, "
            "and order changes with the customers' confirmations",
            files,
            note=f"{orders.count()} orders and {changes.count()} changes in the period.",
        ),
        Part(
            "8.2.1 e",
            "Escalation matrix, escalations with their deadlines, and the customer notices",
            contingency,
            note=f"{escalations.count()} escalations in the period; "
            f"{sum(e.breached for e in escalations)} missed their deadline.",
        ),
    ]
