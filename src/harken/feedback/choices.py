"""Kinds, states and scales of feedback, with their groups and badge colours."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    SURVEY = "survey", _("Survey")
    COMPLAINTS_INBOX = "complaints_inbox", _("Complaints inbox")
    SUPPORT_TICKETS = "support_tickets", _("Support tickets")
    EMAIL = "email", _("E-mail")
    REVIEWS = "reviews", _("Reviews")
    RETURNS = "returns", _("Returns and warranty")
    DEALER_REPORTS = "dealer_reports", _("Dealer reports")
    ACCOUNT_NOTES = "account_notes", _("Renewal / QBR notes")
    INTERVIEWS = "interviews", _("Interviews")
    SOCIAL = "social", _("Social media")
    THIRD_PARTY = "third_party", _("Third-party provider")


class ItemKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    COMPLIMENT = "compliment", _("Compliment")
    SUGGESTION = "suggestion", _("Suggestion")
    ENQUIRY = "enquiry", _("Enquiry")
    SURVEY_RESPONSE = "survey_response", _("Survey response")
    REVIEW = "review", _("Review")
    RETURN_CLAIM = "return_claim", _("Return / warranty claim")
    ESCALATION = "escalation", _("Escalation")


class ItemStatus(models.TextChoices):
    NEW = "new", _("New")
    TRIAGED = "triaged", _("Triaged")
    UNDER_REVIEW = "under_review", _("Under review")
    CLOSED = "closed", _("Closed")


OPEN_STATES = frozenset({ItemStatus.NEW, ItemStatus.TRIAGED, ItemStatus.UNDER_REVIEW})
STATUS_COLOURS: dict[str, str] = {
    ItemStatus.NEW: "primary",
    ItemStatus.TRIAGED: "info",
    ItemStatus.UNDER_REVIEW: "warning",
    ItemStatus.CLOSED: "secondary",
}


class Scale(models.TextChoices):
    NPS = "nps", _("NPS 0–10")
    CSAT = "csat", _("CSAT 1–5")
    CES = "ces", _("CES 1–7")
    STARS = "stars", _("Stars 1–5")
    CSAT2 = "csat2", _("Good / bad")
    PERCENT = "percent", _("Percent 0–100")
    CUSTOM = "custom", _("Custom")


SCALE_RANGES = {
    Scale.NPS: (0, 10),
    Scale.CSAT: (1, 5),
    Scale.CES: (1, 7),
    Scale.STARS: (1, 5),
    Scale.CSAT2: (0, 1),
    Scale.PERCENT: (0, 100),
}


class Impact(models.TextChoices):
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


IMPACT_COLOURS: dict[str, str] = {
    Impact.MINOR: "secondary",
    Impact.MAJOR: "warning",
    Impact.CRITICAL: "danger",
}


class ExpectationType(models.TextChoices):
    EXPLICIT = "explicit", _("Explicit contract requirement")
    IMPLIED = "implied", _("Implied expectation")


class SentimentLabel(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class SentimentSource(models.TextChoices):
    LEXICON = "lexicon", _("Lexicon model")
    SCORE = "score", _("From the score")
    PERSON = "person", _("Set by a person")


class RuleKind(models.TextChoices):
    KEYWORD = "keyword", _("Whole word")
    PHRASE = "phrase", _("Phrase")
    REGEX = "regex", _("Regular expression")


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


BATCH_COLOURS: dict[str, str] = {
    BatchStatus.PENDING: "secondary",
    BatchStatus.RUNNING: "info",
    BatchStatus.COMPLETED: "success",
    BatchStatus.FAILED: "danger",
}
