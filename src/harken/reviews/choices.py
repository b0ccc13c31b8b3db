from django.db import models
from django.utils.translation import gettext_lazy as _


class Cadence(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")


CADENCE_MONTHS = {
    Cadence.MONTHLY: 1,
    Cadence.QUARTERLY: 3,
    Cadence.HALF_YEARLY: 6,
    Cadence.YEARLY: 12,
}


class PackKind(models.TextChoices):
    REVIEW = "review", _("Customer satisfaction review pack")
    MANAGEMENT = "management", _("Management review input")


class PackStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    REPLACED = "replaced", _("Replaced by a revision")


PACK_COLOURS: dict[str, str] = {
    PackStatus.DRAFT: "secondary",
    PackStatus.ISSUED: "success",
    PackStatus.REPLACED: "warning",
}


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held (minutes in draft)")
    APPROVED = "approved", _("Minutes approved")


MEETING_COLOURS: dict[str, str] = {
    MeetingStatus.PLANNED: "secondary",
    MeetingStatus.HELD: "warning",
    MeetingStatus.APPROVED: "success",
}


class DecisionKind(models.TextChoices):
    DISPOSITION = "disposition", _("Theme disposition")
    ACTION_OPENED = "action_opened", _("Action opened")
    ACTION_CLOSED = "action_closed", _("Action closed")
    TARGET_CHANGED = "target_changed", _("Target changed")
    OTHER = "other", _("Other decision")
