"""States and kinds of enquiries, reviews, offers, orders, changes, escalations and notices,
with their groups, badge colours and the defaults that apply until configured."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.core.choices import Role


class EnquiryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    IN_REVIEW = "in_review", _("Requirements in review")
    CLARIFICATION = "clarification", _("Waiting for clarification")
    REVIEWED = "reviewed", _("Reviewed, may be offered")
    QUOTED = "quoted", _("Offer sent")
    ORDERED = "ordered", _("Ordered")
    DECLINED = "declined", _("Declined by us")
    LOST = "lost", _("Lost or withdrawn")


OPEN_ENQUIRY_STATES = frozenset(
    {
        EnquiryStatus.RECEIVED,
        EnquiryStatus.IN_REVIEW,
        EnquiryStatus.CLARIFICATION,
        EnquiryStatus.REVIEWED,
        EnquiryStatus.QUOTED,
    }
)
# Intake may still be completed in these states; later the enquiry is what was reviewed.
EDITABLE_ENQUIRY_STATES = frozenset({EnquiryStatus.RECEIVED, EnquiryStatus.CLARIFICATION})
ENQUIRY_COLOURS: dict[str, str] = {
    EnquiryStatus.RECEIVED: "primary",
    EnquiryStatus.IN_REVIEW: "warning",
    EnquiryStatus.CLARIFICATION: "info",
    EnquiryStatus.REVIEWED: "success",
    EnquiryStatus.QUOTED: "success",
    EnquiryStatus.ORDERED: "dark",
    EnquiryStatus.DECLINED: "secondary",
    EnquiryStatus.LOST: "secondary",
}


class IntakeField(models.TextChoices):
    """The enquiry fields a product line's intake profile can make mandatory."""

    CONTACT = "contact", _("Contact")
    RECEIVED_VIA = "received_via", _("Received via (communication)")
    PRODUCT_LINE = "product_line", _("Product line")
    REQUESTED_SCOPE = "requested_scope", _("Requested scope")
    REQUIREMENTS_STATED = "requirements_stated", _("Requirements stated by the customer")
    REQUIREMENTS_IMPLIED = "requirements_implied", _("Requirements implied but necessary")
    REQUIREMENTS_STATUTORY = "requirements_statutory", _("Statutory and regulatory requirements")
    REQUIREMENTS_OURS = "requirements_ours", _("Our own additional requirements")
    REQUESTED_DELIVERY = "requested_delivery", _("Requested delivery date")
    SPECIAL_HANDLING = "special_handling", _("Special handling")


# What applies to a product line that has no intake profile yet.
DEFAULT_REQUIRED_FIELDS = (
    IntakeField.CONTACT,
    IntakeField.REQUESTED_SCOPE,
    IntakeField.REQUIREMENTS_STATED,
    IntakeField.REQUESTED_DELIVERY,
)
DEFAULT_FIRST_RESPONSE_DAYS = 1
DEFAULT_CHANGE_CONFIRMATION_DAYS = 5


class ReviewKind(models.TextChoices):
    INITIAL = "initial", _("Requirement review before acceptance")
    DIFFERENCE = "difference", _("Review of accepted terms that differ from the offer")


class ReviewStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")


class ReviewOutcome(models.TextChoices):
    ACCEPT = "accept", _("Accept")
    ACCEPT_WITH_CONDITIONS = "accept_conditions", _("Accept with conditions")
    DECLINE = "decline", _("Decline")
    CLARIFY = "clarify", _("Need clarification")


POSITIVE_OUTCOMES = frozenset({ReviewOutcome.ACCEPT, ReviewOutcome.ACCEPT_WITH_CONDITIONS})
OUTCOME_COLOURS: dict[str, str] = {
    ReviewOutcome.ACCEPT: "success",
    ReviewOutcome.ACCEPT_WITH_CONDITIONS: "success",
    ReviewOutcome.DECLINE: "secondary",
    ReviewOutcome.CLARIFY: "info",
}


class Answer(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    NOT_APPLICABLE = "na", _("Not applicable")


# The checklist every installation starts with (ISO 9001 8.2.3.1 and 8.2.3.2).
DEFAULT_QUESTIONS = (
    ("defined", "Are the customer's requirements defined and understood, including delivery?"),
    ("capability", "Do we have the capability and the capacity to meet them?"),
    ("quotation", "Are differences from any previous quotation or order resolved?"),
    ("statutory", "Are the statutory and regulatory requirements identified?"),
    ("risks", "Are the risks of taking this on noted?"),
)


class OfferStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected by the customer")
    WITHDRAWN = "withdrawn", _("Withdrawn or superseded")


OFFER_COLOURS: dict[str, str] = {
    OfferStatus.ISSUED: "primary",
    OfferStatus.ACCEPTED: "success",
    OfferStatus.REJECTED: "secondary",
    OfferStatus.WITHDRAWN: "secondary",
}


class AcceptanceKind(models.TextChoices):
    PURCHASE_ORDER = "purchase_order", _("Customer purchase order")
    SIGNED_QUOTE = "signed_quote", _("Signed quotation")
    CONTRACT = "contract", _("Signed contract")
    SUBSCRIPTION = "subscription", _("Subscription confirmation")
    WRITTEN_CONFIRMATION = "written", _("Written confirmation (e-mail, portal)")


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Received, not yet accepted")
    ACCEPTED = "accepted", _("Accepted")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


# Orders that count as "accepted" for the auditor's question about reviews.
ACCEPTED_ORDER_STATES = frozenset({OrderStatus.ACCEPTED, OrderStatus.COMPLETED})
ORDER_COLOURS: dict[str, str] = {
    OrderStatus.PENDING: "warning",
    OrderStatus.ACCEPTED: "success",
    OrderStatus.COMPLETED: "dark",
    OrderStatus.REFUSED: "secondary",
    OrderStatus.CANCELLED: "secondary",
}


class ChangeOrigin(models.TextChoices):
    CUSTOMER = "customer", _("Requested by the customer")
    US = "us", _("Proposed by us")


class ChangeAspect(models.TextChoices):
    SCOPE = "scope", _("Scope")
    REQUIREMENTS = "requirements", _("Requirements")
    DATES = "dates", _("Delivery date")
    PRICE = "price", _("Price")
    PROPERTY = "property", _("Customer property")


# Which order field each aspect changes, and the change request field holding its new value.
ASPECT_FIELDS: dict[str, tuple[str, str]] = {
    ChangeAspect.SCOPE: ("scope", "new_scope"),
    ChangeAspect.REQUIREMENTS: ("requirements", "new_requirements"),
    ChangeAspect.DATES: ("delivery_date", "new_delivery_date"),
    ChangeAspect.PRICE: ("price", "new_price"),
    ChangeAspect.PROPERTY: ("customer_property", "new_customer_property"),
}


class ChangeStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ASSESSED = "assessed", _("Impact reviewed")
    AWAITING = "awaiting", _("Communicated, awaiting the customer's confirmation")
    CONFIRMED = "confirmed", _("Confirmed and effective")
    REJECTED = "rejected", _("Rejected or withdrawn")


OPEN_CHANGE_STATES = frozenset(
    {ChangeStatus.REQUESTED, ChangeStatus.ASSESSED, ChangeStatus.AWAITING}
)
CHANGE_COLOURS: dict[str, str] = {
    ChangeStatus.REQUESTED: "primary",
    ChangeStatus.ASSESSED: "info",
    ChangeStatus.AWAITING: "warning",
    ChangeStatus.CONFIRMED: "success",
    ChangeStatus.REJECTED: "secondary",
}


class EventType(models.TextChoices):
    DELAY = "delay", _("Delay")
    DEFECT = "defect", _("Defect")
    INCIDENT = "incident", _("Incident")
    SHORTAGE = "shortage", _("Shortage")
    PROPERTY_INCIDENT = "property_incident", _("Customer property incident")
    CRITICAL_COMPLAINT = "critical_complaint", _("Critical complaint")
    SERVICE_OUTAGE = "service_outage", _("Service outage")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_COLOURS: dict[str, str] = {
    Severity.LOW: "secondary",
    Severity.MEDIUM: "info",
    Severity.HIGH: "warning",
    Severity.CRITICAL: "danger",
}

# Roles that may be named to approve a notice or receive an escalation: people who act.
ACTING_ROLES = (
    Role.QUALITY_MANAGER,
    Role.QUALITY_ANALYST,
    Role.CUSTOMER_FACING,
    Role.ACTION_OWNER,
)


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open, customer not yet told")
    INFORMED = "informed", _("Customer informed")
    CLOSED = "closed", _("Closed")


ESCALATION_COLOURS: dict[str, str] = {
    EscalationStatus.OPEN: "warning",
    EscalationStatus.INFORMED: "info",
    EscalationStatus.CLOSED: "secondary",
}


class NoticeStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved, not sent")
    SENT = "sent", _("Sent")
    WITHDRAWN = "withdrawn", _("Withdrawn")


NOTICE_COLOURS: dict[str, str] = {
    NoticeStatus.DRAFT: "secondary",
    NoticeStatus.APPROVED: "info",
    NoticeStatus.SENT: "success",
    NoticeStatus.WITHDRAWN: "dark",
}
