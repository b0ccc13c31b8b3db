"""The trace of an order: enquiry → requirement review → offer → acceptance → changes →
delivery communications → feedback, each step with who did what and when, the
evidence files and the controlled documents given to the customer at that step.

A step with nothing in it says so ("no change requested"); the auditor sees the gap
rather than a missing heading.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from harken.communications.models import Communication, CommunicationLink
from harken.core.models import EvidenceFile
from harken.documents.models import Distribution
from harken.feedback.models import FeedbackItem

from .choices import (
    CHANGE_COLOURS,
    ENQUIRY_COLOURS,
    OFFER_COLOURS,
    ORDER_COLOURS,
    OUTCOME_COLOURS,
    Answer,
    ReviewKind,
)
from .models import ChangeRequest, Escalation, Order
from .services import communications_about_all

MAX_FEEDBACK = 25


@dataclass
class Document:
    label: str
    url: str
    distribution: str
    distribution_url: str


@dataclass
class Evidence:
    name: str
    url: str
    sha256: str


@dataclass
class Entry:
    """One record at one step."""

    title: str
    url: str = ""
    at: dt.datetime | None = None
    who: str = ""
    status: str = ""
    colour: str = "secondary"
    lines: list[str] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    files: list[Evidence] = field(default_factory=list)
    communications: list[Any] = field(default_factory=list)


@dataclass
class Step:
    key: str
    title: str
    entries: list[Entry] = field(default_factory=list)
    gap: str = ""


def evidence(kind: str, pk: int, file: EvidenceFile | None) -> list[Evidence]:
    if file is None:
        return []
    return [Evidence(file.name, reverse("orders:evidence", args=[kind, pk]), file.sha256)]


def username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def local(at: dt.datetime | None) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M}" if at else "—"


class Documents:
    """The distributions that went with the records of the trace, fetched in one query."""

    def __init__(self, records: list[Any]) -> None:
        by_type: dict[int, list[str]] = defaultdict(list)
        for record in records:
            by_type[ContentType.objects.get_for_model(record).pk].append(str(record.pk))
        query = Q()
        for type_id, ids in by_type.items():
            query |= Q(via_type_id=type_id, via_id__in=ids)
        self.rows: dict[tuple[int, str], list[Document]] = defaultdict(list)
        if not query:
            return
        for d in (
            Distribution.objects.filter(query)
            .select_related("version__document")
            .order_by("distributed_at", "pk")
        ):
            version = d.version
            label = f"{version.document.number} {version.document.title} v{version.label}"
            self.rows[(d.via_type_id, d.via_id)].append(  # type: ignore[index]
                Document(label, version.get_absolute_url(), d.number, d.get_absolute_url())
            )

    def of(self, record: Any) -> list[Document]:
        key = (ContentType.objects.get_for_model(record).pk, str(record.pk))
        return self.rows.get(key, [])


def order_trace(order: Order) -> list[Step]:
    """The steps of `order`'s story, in order (see the module docstring)."""
    enquiry = order.enquiry
    reviews = list(
        enquiry.reviews.select_related("reviewer", "evidence", "order")
        .prefetch_related("answers")
        .order_by("kind", "round", "pk")
    )
    offers = list(enquiry.offers.select_related("review", "file", "sent_via").order_by("issued_at"))
    changes = list(
        order.changes.select_related(
            "impact_reviewed_by",
            "communicated_via",
            "confirmation_file",
            "confirmed_via",
            "received_via",
            "order_version",
        ).order_by("requested_at", "pk")
    )
    escalations = list(
        order.escalations.prefetch_related("notices__communication").order_by("raised_at")
    )
    records: list[Any] = [enquiry, order, *offers, *changes, *escalations]
    about = list(communications_about_all(records))
    docs = Documents([*offers, order, *about])
    concerned = concerns_of(about)
    shown: set[int] = set()

    def comms(record: Any, *, new_only: bool = False, only: int | None = None) -> list[Any]:
        key = (record._meta.label_lower, str(record.pk))
        found = [
            c
            for c in about
            if key in concerned[c.pk]
            and not (new_only and c.pk in shown)
            and (only is None or c.pk == only)
        ]
        for c in found:
            shown.add(c.pk)
            c.trace_documents = docs.of(c)
        return found

    steps = [
        enquiry_step(enquiry, comms),
        review_step(enquiry, [r for r in reviews if r.kind == ReviewKind.INITIAL]),
        offer_step(order, offers, docs, comms),
        acceptance_step(order, [r for r in reviews if r.order_id == order.pk], docs, comms),
        change_step(changes, comms),
    ]
    delivery = delivery_step(order, escalations, comms)
    steps.append(delivery)
    steps.append(feedback_step(order, about))
    return steps


def concerns_of(communications: list[Any]) -> dict[int, set[tuple[str, str]]]:
    """For each communication, the records (type, id) it concerns."""
    result: dict[int, set[tuple[str, str]]] = defaultdict(set)
    links = CommunicationLink.objects.filter(
        communication_id__in=[c.pk for c in communications]
    ).select_related("target_type")
    for link in links:
        label = f"{link.target_type.app_label}.{link.target_type.model}"
        result[link.communication_id].add((label, link.target_id))
    return result


def enquiry_step(enquiry: Any, comms: Any) -> Step:
    lines = [
        f"Received {local(enquiry.received_at)}"
        + (f" via {enquiry.received_via.number}" if enquiry.received_via_id else ""),
        f"Scope: {enquiry.requested_scope or '—'}",
        f"Stated requirements: {enquiry.requirements_stated or '—'}",
        f"Implied requirements: {enquiry.requirements_implied or '—'}",
        f"Statutory and regulatory: {enquiry.requirements_statutory or '—'}",
        f"Our own requirements: {enquiry.requirements_ours or '—'}",
        f"Requested delivery: {enquiry.requested_delivery or '—'}",
    ]
    if enquiry.customer_property:
        lines.append("Customer property is involved.")
    if enquiry.first_responded_at:
        late = enquiry.first_responded_at > enquiry.first_response_due
        lines.append(
            f"First response {local(enquiry.first_responded_at)} (due "
            f"{local(enquiry.first_response_due)}{', late' if late else ''})"
        )
    else:
        lines.append(f"No first response yet (due {local(enquiry.first_response_due)})")
    files = [
        item
        for a in enquiry.attachments.select_related("file")
        for item in evidence("attachment", a.pk, a.file)
    ]
    entry = Entry(
        title=enquiry.number,
        url=enquiry.get_absolute_url(),
        at=enquiry.received_at,
        who=username(enquiry.owner),
        status=enquiry.get_status_display(),
        colour=ENQUIRY_COLOURS.get(enquiry.status, "secondary"),
        lines=lines,
        files=files,
        communications=comms(enquiry),
    )
    return Step("enquiry", "Enquiry", [entry])


def review_step(enquiry: Any, reviews: list[Any]) -> Step:
    entries = []
    for review in reviews:
        answers = list(review.answers.all())
        tally = {a: sum(1 for x in answers if x.answer == a) for a in Answer.values}
        lines = [
            f"Round {review.round}: "
            f"{tally[Answer.YES]} yes, {tally[Answer.NO]} no, "
            f"{tally[Answer.NOT_APPLICABLE]} not applicable, "
            f"{sum(1 for x in answers if not x.answer)} unanswered"
        ]
        for text in (review.conditions, review.decline_reason, review.clarification):
            if text:
                lines.append(text)
        entries.append(
            Entry(
                title=review.number,
                url=review.get_absolute_url(),
                at=review.completed_at,
                who=username(review.reviewer),
                status=review.get_outcome_display() or review.get_status_display(),
                colour=OUTCOME_COLOURS.get(review.outcome, "warning"),
                lines=lines,
                files=evidence("review", review.pk, review.evidence),
            )
        )
    gap = "" if enquiry.passed_review() else "No completed requirement review accepts the enquiry."
    if not entries:
        gap = "No requirement review."
    return Step("review", "Requirement review", entries, gap)


def offer_step(order: Order, offers: list[Any], docs: Documents, comms: Any) -> Step:
    entries = []
    for offer in offers:
        lines = [
            f"Rests on {offer.review.number}",
            f"Scope: {offer.scope}",
            f"Delivery {offer.delivery_date or '—'}; price "
            f"{offer.price if offer.price is not None else '—'} {offer.currency}",
        ]
        if offer.sent_via_id:
            lines.append(f"Sent with {offer.sent_via.number}")
        if offer.pk == order.offer_id:
            lines.append(f"Accepted as {order.number}")
        entries.append(
            Entry(
                title=offer.number,
                url=offer.get_absolute_url(),
                at=offer.issued_at,
                who=username(offer.created_by),
                status=offer.get_status_display(),
                colour=OFFER_COLOURS.get(offer.status, "secondary"),
                lines=lines,
                documents=docs.of(offer),
                files=evidence("offer", offer.pk, offer.file),
                communications=comms(offer),
            )
        )
    gap = "" if order.offer_id else "Ordered without an offer."
    return Step("offer", "Offer", entries, gap)


def acceptance_step(
    order: Order, difference_reviews: list[Any], docs: Documents, comms: Any
) -> Step:
    lines = [
        f"{order.get_acceptance_kind_display()}"
        + (f" {order.customer_reference}" if order.customer_reference else "")
        + f", received {local(order.acceptance_received_at)}"
        + (f" with {order.acceptance_via.number}" if order.acceptance_via else ""),
    ]
    if order.differs_from_offer:
        lines.append(f"Differs from the offer: {order.differences}")
    for review in difference_reviews:
        lines.append(
            f"Differences reviewed in {review.number}: "
            f"{review.get_outcome_display() or review.get_status_display()}"
            + (f" by {username(review.reviewer)}" if review.reviewer_id else "")
        )
    if order.accepted_at:
        lines.append(f"Accepted {local(order.accepted_at)} by {username(order.accepted_by)}")
    entry = Entry(
        title=order.number,
        url=order.get_absolute_url(),
        at=order.accepted_at or order.acceptance_received_at,
        who=username(order.accepted_by),
        status=order.get_status_display(),
        colour=ORDER_COLOURS.get(order.status, "secondary"),
        lines=lines,
        documents=docs.of(order),
        files=evidence("acceptance", order.pk, order.acceptance_file),
        communications=comms(order, only=order.acceptance_via_id or 0),
    )
    gap = "" if order.accepted_at else "The order is not accepted yet."
    return Step("acceptance", "Acceptance", [entry], gap)


def change_step(changes: list[ChangeRequest], comms: Any) -> Step:
    entries = []
    for change in changes:
        lines = [f"{change.get_origin_display()}: {change.aspect_labels()}", change.description]
        if change.impact_reviewed_by_id:
            verdict = "feasible" if change.feasible else "not feasible"
            lines.append(
                f"Impact reviewed by {username(change.impact_reviewed_by)}, "
                f"{local(change.impact_reviewed_at)}: {verdict}. {change.impact_summary}"
            )
        if change.communicated_via is not None:
            lines.append(f"Communicated with {change.communicated_via.number}")
        if change.confirmed_at:
            lines.append(f"Confirmed by the customer {local(change.confirmed_at)}")
        version = getattr(change, "order_version", None)
        if version is not None:
            what = ", ".join(
                f"{name.replace('_', ' ')} {before} → {after}"
                for name, (before, after) in version.changed.items()
            )
            lines.append(f"Order version {version.number}: {what}")
        elif change.status != "confirmed":
            lines.append("Not effective: not confirmed by the customer.")
        entries.append(
            Entry(
                title=change.number,
                url=change.get_absolute_url(),
                at=change.requested_at,
                who=username(change.impact_reviewed_by),
                status=change.get_status_display(),
                colour=CHANGE_COLOURS.get(change.status, "secondary"),
                lines=lines,
                files=evidence("confirmation", change.pk, change.confirmation_file),
                communications=comms(change),
            )
        )
    return Step("changes", "Changes", entries, "" if entries else "No change requested.")


def delivery_step(order: Order, escalations: list[Escalation], comms: Any) -> Step:
    entries = []
    for escalation in escalations:
        if escalation.breached:
            deadline = "deadline missed"
        elif escalation.deadline_met:
            deadline = "told within the deadline"
        else:
            deadline = "not told yet"
        lines = [
            f"{escalation.get_event_type_display()}, {escalation.get_severity_display()}: "
            f"customer to be told by {local(escalation.notice_due)}; {deadline}",
        ]
        for notice in escalation.notices.all():
            if notice.sent_at:
                lines.append(f"{notice.number} sent {local(notice.sent_at)}")
            else:
                lines.append(f"{notice.number} {notice.get_status_display().lower()}")
        entries.append(
            Entry(
                title=str(escalation),
                url=escalation.get_absolute_url(),
                at=escalation.raised_at,
                status=escalation.get_status_display(),
                colour="danger"
                if escalation.breached
                else ("success" if escalation.deadline_met else "warning"),
                lines=lines,
                communications=comms(escalation),
            )
        )
    order_comms = comms(order, new_only=True)
    if order_comms:
        entries.insert(0, Entry(title="Communications about the order", communications=order_comms))
    gap = "" if entries else "No communication about the order's delivery is logged yet."
    return Step("delivery", "Delivery communications and contingencies", entries, gap)


def feedback_step(order: Order, about: list[Communication]) -> Step:
    """Feedback linked to the communications of the trace, and the customer's feedback
    that names the order (its number or the customer's PO reference)."""
    item_type = ContentType.objects.get_for_model(FeedbackItem)
    linked_ids = {
        int(i)
        for i in CommunicationLink.objects.filter(
            communication_id__in=[c.pk for c in about], target_type=item_type
        ).values_list("target_id", flat=True)
        if i.isdigit()
    }
    names = Q(title__icontains=order.number) | Q(text__icontains=order.number)
    if order.customer_reference:
        names |= Q(title__icontains=order.customer_reference) | Q(
            text__icontains=order.customer_reference
        )
    items = list(
        FeedbackItem.objects.filter(Q(pk__in=linked_ids) | (Q(customer=order.customer) & names))
        .select_related("source")
        .order_by("received_at")[:MAX_FEEDBACK]
    )
    entries = [
        Entry(
            title=str(item),
            url=item.get_absolute_url(),
            at=item.received_at,
            status=item.get_kind_display(),
            lines=[
                ("Linked through a communication" if item.pk in linked_ids else "Names the order")
                + f"; via {item.source}",
                (item.title or item.text)[:200],
            ],
        )
        for item in items
    ]
    return Step(
        "feedback", "Feedback about it", entries, "" if entries else "No feedback about it."
    )
