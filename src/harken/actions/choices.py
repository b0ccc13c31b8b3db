"""States, kinds and verdicts of themes, proposals, actions and effectiveness checks."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DispositionDecision(models.TextChoices):
    ACCEPT_RISK = "accept_risk", _("Accept the risk")
    FIX = "fix", _("Fix")
    INVESTIGATE = "investigate", _("Investigate")
    MONITOR = "monitor", _("Monitor")


class ActionKind(models.TextChoices):
    CORRECTIVE = "corrective", _("Corrective action")
    IMPROVEMENT = "improvement", _("Improvement action")


class RuleCondition(models.TextChoices):
    CRITICAL_ITEM = "critical_item", _("Any feedback of critical impact")
    RECURRING = (
        "recurring",
        _("At least N complaints in one category and product line within M days"),
    )
    CONTROL_CHART = "control_chart", _("A control-chart signal")
    ADVERSE_CHANGE = "adverse_change", _("A significant adverse change (expectations shifting)")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


PROPOSAL_COLOURS: dict[str, str] = {
    ProposalStatus.PENDING: "warning",
    ProposalStatus.ACCEPTED: "success",
    ProposalStatus.REJECTED: "secondary",
}


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONTAINED = "contained", _("Contained")
    ROOT_CAUSE_FOUND = "root_cause_found", _("Root cause found")
    IMPLEMENTING = "implementing", _("Implementing")
    VERIFYING = "verifying", _("Verifying")
    CLOSED_EFFECTIVE = "closed_effective", _("Closed (effective)")
    CLOSED_NOT_EFFECTIVE = "closed_not_effective", _("Closed (not effective)")
    REOPENED = "reopened", _("Reopened")


OPEN_ACTION_STATES = frozenset(
    {
        ActionStatus.OPEN,
        ActionStatus.CONTAINED,
        ActionStatus.ROOT_CAUSE_FOUND,
        ActionStatus.IMPLEMENTING,
        ActionStatus.VERIFYING,
        ActionStatus.REOPENED,
    }
)
CLOSED_ACTION_STATES = frozenset({ActionStatus.CLOSED_EFFECTIVE, ActionStatus.CLOSED_NOT_EFFECTIVE})
ACTION_COLOURS: dict[str, str] = {
    ActionStatus.OPEN: "primary",
    ActionStatus.CONTAINED: "info",
    ActionStatus.ROOT_CAUSE_FOUND: "info",
    ActionStatus.IMPLEMENTING: "warning",
    ActionStatus.VERIFYING: "warning",
    ActionStatus.CLOSED_EFFECTIVE: "success",
    ActionStatus.CLOSED_NOT_EFFECTIVE: "danger",
    ActionStatus.REOPENED: "danger",
}


class RootCauseMethod(models.TextChoices):
    FIVE_WHYS = "five_whys", _("5 whys")
    FISHBONE = "fishbone", _("Fishbone (cause and effect)")
    FREE_TEXT = "free_text", _("Free text")


# The usual fishbone branches for manufacturing and service processes.
FISHBONE_CATEGORIES = (
    "Method",
    "Machine",
    "Material",
    "Manpower",
    "Measurement",
    "Environment",
)


class CheckMetric(models.TextChoices):
    COMPLAINT_RATE = "complaint_rate", _("Complaint rate (per 1,000 orders)")
    COMPLAINTS = "complaints", _("Number of complaints")
    CSAT = "csat", _("CSAT")
    NPS = "nps", _("NPS")
    NEGATIVE_SHARE = "negative_share", _("Share of negative sentiment")


class TargetKind(models.TextChoices):
    RELATIVE_REDUCTION = "relative_reduction", _("Falls by at least … %")
    RELATIVE_INCREASE = "relative_increase", _("Rises by at least … %")
    AT_MOST = "at_most", _("Is at most …")
    AT_LEAST = "at_least", _("Is at least …")
    NO_RECURRENCE = "no_recurrence", _("No recurrence in the evaluation window")


class Verdict(models.TextChoices):
    EFFECTIVE = "effective", _("Effective")
    NOT_EFFECTIVE = "not_effective", _("Not effective")
    INCONCLUSIVE = "inconclusive", _("Inconclusive (too little data)")


VERDICT_COLOURS: dict[str, str] = {
    Verdict.EFFECTIVE: "success",
    Verdict.NOT_EFFECTIVE: "danger",
    Verdict.INCONCLUSIVE: "secondary",
}
