"""Kinds and states of customer property, custody events and property incidents, with
their groups and badge colours."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PropertyKind(models.TextChoices):
    """What the customer entrusted to us: not only physical items (ISO 9001 8.5.3 note)."""

    PHYSICAL = "physical", _("Physical product or material")
    TOOLING = "tooling", _("Tooling or fixture")
    DRAWING = "drawing", _("Drawing or design")
    DATA = "data", _("Data set")
    IP = "ip", _("Intellectual property")
    CREDENTIALS = "credentials", _("Credentials or access")
    DOCUMENTATION = "documentation", _("Documentation")
    OTHER = "other", _("Other")


# Kinds that are information rather than things: they are accessed, not moved, and
# they have a retention period.
INFORMATION_KINDS = frozenset(
    {PropertyKind.DATA, PropertyKind.IP, PropertyKind.CREDENTIALS, PropertyKind.DRAWING}
)


class PropertyStatus(models.TextChoices):
    EXPECTED = "expected", _("Expected")
    RECEIVED = "received", _("Received")
    STORED = "stored", _("Stored")
    IN_USE = "in_use", _("In use")
    RETURNED = "returned", _("Returned")
    DESTROYED = "destroyed", _("Destroyed or revoked")
    LOST_DAMAGED = "lost_damaged", _("Lost or damaged")


# Items we hold (or held until they went missing): what due dates, reviews and
# inventory checks are about.
HELD_STATES = frozenset(
    {
        PropertyStatus.RECEIVED,
        PropertyStatus.STORED,
        PropertyStatus.IN_USE,
        PropertyStatus.LOST_DAMAGED,
    }
)
ENDED_STATES = frozenset({PropertyStatus.RETURNED, PropertyStatus.DESTROYED})
STATUS_COLOURS: dict[str, str] = {
    PropertyStatus.EXPECTED: "light border",
    PropertyStatus.RECEIVED: "info",
    PropertyStatus.STORED: "primary",
    PropertyStatus.IN_USE: "warning",
    PropertyStatus.RETURNED: "success",
    PropertyStatus.DESTROYED: "secondary",
    PropertyStatus.LOST_DAMAGED: "danger",
}


class Confidentiality(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")
    CONFIDENTIAL = "confidential", _("Confidential")
    STRICTLY_CONFIDENTIAL = "strict", _("Strictly confidential")


CONFIDENTIALITY_COLOURS: dict[str, str] = {
    Confidentiality.PUBLIC: "light border",
    Confidentiality.INTERNAL: "secondary",
    Confidentiality.CONFIDENTIAL: "warning",
    Confidentiality.STRICTLY_CONFIDENTIAL: "danger",
}


class EndAction(models.TextChoices):
    """What happens to the item when we no longer need it."""

    RETURN = "return", _("Return to the customer")
    DESTROY = "destroy", _("Destroy (or delete, or revoke)")
    UNDECIDED = "", _("Not decided yet")


class CustodyKind(models.TextChoices):
    RECEIVED = "received", _("Received")
    MOVED = "moved", _("Moved")
    ISSUED = "issued", _("Issued")
    USED = "used", _("Used")
    ACCESSED = "accessed", _("Accessed")
    CHECKED = "checked", _("Seen in a check")
    RETURNED = "returned", _("Returned to the customer")
    DESTROYED = "destroyed", _("Destroyed")
    REVOKED = "revoked", _("Revoked")
    LOST = "lost", _("Reported lost")
    DAMAGED = "damaged", _("Reported damaged or unsuitable")


# Events a person records on the custody form; LOST and DAMAGED come only with an
# incident (services.record_incident), so that the customer is told.
FORM_KINDS = (
    CustodyKind.RECEIVED,
    CustodyKind.MOVED,
    CustodyKind.ISSUED,
    CustodyKind.USED,
    CustodyKind.ACCESSED,
    CustodyKind.CHECKED,
    CustodyKind.RETURNED,
    CustodyKind.DESTROYED,
    CustodyKind.REVOKED,
)
# Events that end our custody and need the customer's acknowledgement or a certificate.
CONFIRMED_KINDS = frozenset({CustodyKind.RETURNED, CustodyKind.DESTROYED, CustodyKind.REVOKED})
CUSTODY_ICONS: dict[str, str] = {
    CustodyKind.RECEIVED: "box-arrow-in-down",
    CustodyKind.MOVED: "arrow-left-right",
    CustodyKind.ISSUED: "person-check",
    CustodyKind.USED: "tools",
    CustodyKind.ACCESSED: "key",
    CustodyKind.CHECKED: "clipboard-check",
    CustodyKind.RETURNED: "box-arrow-up",
    CustodyKind.DESTROYED: "trash",
    CustodyKind.REVOKED: "x-octagon",
    CustodyKind.LOST: "question-octagon",
    CustodyKind.DAMAGED: "exclamation-triangle",
}


class IncidentKind(models.TextChoices):
    LOSS = "loss", _("Loss")
    DAMAGE = "damage", _("Damage")
    UNAUTHORISED_ACCESS = "unauthorised_access", _("Unauthorised access")
    UNSUITABLE = "unsuitable", _("Found unsuitable for use")


# The custody event each kind of incident appends to the item's chain.
INCIDENT_CUSTODY: dict[str, str] = {
    IncidentKind.LOSS: CustodyKind.LOST,
    IncidentKind.DAMAGE: CustodyKind.DAMAGED,
    IncidentKind.UNSUITABLE: CustodyKind.DAMAGED,
    IncidentKind.UNAUTHORISED_ACCESS: CustodyKind.ACCESSED,
}


class Severity(models.TextChoices):
    """The escalation matrix's scale (orders), so its rows can set the notification deadline."""

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


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


INCIDENT_COLOURS: dict[str, str] = {
    IncidentStatus.OPEN: "warning",
    IncidentStatus.CLOSED: "secondary",
}


class CheckOutcome(models.TextChoices):
    SEEN = "seen", _("Seen")
    MISSING = "missing", _("Missing")
