from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    INTAKE = "intake", _("Intake")
    ANALYSIS = "analysis", _("Analysis")
    DECISION = "decision", _("Decision")
    ACTION = "action", _("Action")
    EFFECTIVENESS = "effectiveness", _("Effectiveness")
    CUSTOMER = "customer", _("Customer informed")


STAGE_ORDER = [s.value for s in Stage]


class Outcome(models.TextChoices):
    PASS = "pass", _("Pass")
    WARN = "warn", _("Warning")
    FAIL = "fail", _("Fail")


OUTCOME_COLOURS: dict[str, str] = {
    Outcome.PASS: "success",
    Outcome.WARN: "warning",
    Outcome.FAIL: "danger",
}


class SampleKind(models.TextChoices):
    COMPLAINT = "complaint", _("Complaints")
    FEEDBACK = "feedback", _("Feedback items")
    ACTION = "action", _("Actions")
    THEME = "theme", _("Themes")
    REVIEW = "review", _("Review meetings")
