"""Kinds, triggers and states of surveys, questions, invitations, responses and loop cases,
with their groups and badge colours."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (likelihood to recommend)")
    CSAT = "csat", _("CSAT (satisfaction)")
    CES = "ces", _("CES (effort)")
    CUSTOM = "custom", _("Custom")


# The scale of the score question each kind asks (feedback's Scale codes).
KIND_SCALES: dict[str, str] = {
    SurveyKind.NPS: "nps",
    SurveyKind.CSAT: "csat",
    SurveyKind.CES: "ces",
}


class Trigger(models.TextChoices):
    CAMPAIGN = "campaign", _("One-off campaign")
    RELATIONSHIP = "relationship", _("Periodic relationship survey")
    AFTER_DELIVERY = "after_delivery", _("After delivery or order completion")
    AFTER_RESOLUTION = "after_resolution", _("After a complaint is resolved")


class SurveyStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


SURVEY_COLOURS: dict[str, str] = {
    SurveyStatus.DRAFT: "secondary",
    SurveyStatus.OPEN: "success",
    SurveyStatus.CLOSED: "dark",
}


class QuestionKind(models.TextChoices):
    SCORE = "score", _("Score (the survey's main question)")
    WHY = "why", _("Why (free text about the score)")
    CHOICE = "choice", _("Choice (one of several)")
    MULTIPLE = "multiple", _("Multiple choice")
    RATING = "rating", _("Rating")
    TEXT = "text", _("Text")


# Kinds a survey holds at most one of.
SINGLE_KINDS = frozenset({QuestionKind.SCORE, QuestionKind.WHY})
# Kinds with a list of options.
OPTION_KINDS = frozenset({QuestionKind.CHOICE, QuestionKind.MULTIPLE})
# Kinds answered on a numeric scale.
SCALED_KINDS = frozenset({QuestionKind.SCORE, QuestionKind.RATING})


class QuestionScale(models.TextChoices):
    NPS = "nps", _("0–10 (NPS)")
    CSAT = "csat", _("1–5 (CSAT)")
    CES = "ces", _("1–7 (CES)")
    STARS = "stars", _("1–5 stars")


class InvitationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    BOUNCED = "bounced", _("Bounced")
    OPENED = "opened", _("Opened")
    RESPONDED = "responded", _("Responded")
    OPTED_OUT = "opted_out", _("Opted out")


INVITATION_COLOURS: dict[str, str] = {
    InvitationStatus.QUEUED: "secondary",
    InvitationStatus.SENT: "info",
    InvitationStatus.BOUNCED: "danger",
    InvitationStatus.OPENED: "primary",
    InvitationStatus.RESPONDED: "success",
    InvitationStatus.OPTED_OUT: "warning",
}
# Invitations that reached the customer's mailbox (the denominator of the response rate).
DELIVERED_STATES = frozenset(
    {
        InvitationStatus.SENT,
        InvitationStatus.OPENED,
        InvitationStatus.RESPONDED,
        InvitationStatus.OPTED_OUT,
    }
)
# Invitations whose link may still be answered.
ANSWERABLE_STATES = frozenset({InvitationStatus.SENT, InvitationStatus.OPENED})


class ResponseStatus(models.TextChoices):
    PARTIAL = "partial", _("Partly answered")
    SUBMITTED = "submitted", _("Submitted")


class OptOutVia(models.TextChoices):
    LINK = "link", _("Unsubscribe link")
    ONE_CLICK = "one_click", _("One-click unsubscribe (mail client)")
    BY_HAND = "by_hand", _("Recorded by hand")
    API = "api", _("API")


class OutcomeStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Customer informed")
    SKIPPED = "skipped", _("Not sent")
    NOT_PLANNED = "not_planned", _("Not part of the rule")


OUTCOME_COLOURS: dict[str, str] = {
    OutcomeStatus.PENDING: "warning",
    OutcomeStatus.SENT: "success",
    OutcomeStatus.SKIPPED: "danger",
    OutcomeStatus.NOT_PLANNED: "secondary",
}


class FollowUpStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for its day")
    INVITED = "invited", _("Invited")
    SKIPPED = "skipped", _("Not sent")
    NOT_PLANNED = "not_planned", _("Not part of the rule")


FOLLOW_UP_COLOURS: dict[str, str] = {
    FollowUpStatus.WAITING: "secondary",
    FollowUpStatus.INVITED: "info",
    FollowUpStatus.SKIPPED: "danger",
    FollowUpStatus.NOT_PLANNED: "secondary",
}
