"""Metrics, exposure kinds, grains and the states of signals."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ExposureKind(models.TextChoices):
    ORDERS_SHIPPED = "orders_shipped", _("Orders shipped")
    DELIVERIES = "deliveries", _("Deliveries")
    DELIVERIES_OTIF = "deliveries_otif", _("Deliveries on time in full")
    ACTIVE_CUSTOMERS = "active_customers", _("Active customers")
    TICKETS_HANDLED = "tickets_handled", _("Tickets handled")


class Metric(models.TextChoices):
    ITEMS = "items", _("Feedback items")
    COMPLAINTS = "complaints", _("Complaints")
    COMPLAINT_RATE = "complaint_rate", _("Complaints per 1,000 orders")
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT")
    CES = "ces", _("CES")
    NEGATIVE_SHARE = "negative_share", _("Share of negative sentiment")
    CONFIRMED_SHARE = "confirmed_share", _("Share confirmed by a person")
    OTIF = "otif", _("Deliveries on time in full")


# Metrics where a higher value is worse (for "adverse" changes and objectives).
HIGHER_IS_WORSE = frozenset({Metric.COMPLAINTS, Metric.COMPLAINT_RATE, Metric.NEGATIVE_SHARE})


class Grain(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class Dimension(models.TextChoices):
    SOURCE = "source", _("Source")
    PRODUCT_LINE = "product_line", _("Product line")
    REGION = "region", _("Region")
    CATEGORY = "category", _("Category")
    KIND = "kind", _("Kind")
    SEGMENT = "segment", _("Segment")


class Comparator(models.TextChoices):
    AT_LEAST = ">=", _("at least")
    AT_MOST = "<=", _("at most")


class Frequency(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")


class SignalKind(models.TextChoices):
    CONTROL_CHART = "control_chart", _("Control chart rule")
    SIGNIFICANT_CHANGE = "significant_change", _("Significant adverse change")
    RECURRENCE = "recurrence", _("Recurrence after an action")


class SignalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ACTIONED = "actioned", _("Turned into an action")
    DISMISSED = "dismissed", _("Dismissed")


SIGNAL_COLOURS: dict[str, str] = {
    SignalStatus.OPEN: "danger",
    SignalStatus.ACKNOWLEDGED: "warning",
    SignalStatus.ACTIONED: "success",
    SignalStatus.DISMISSED: "secondary",
}
