"""Directions, channels and states of communications, lifecycle phases, kinds of mail runs."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    MEETING = "meeting", _("Meeting")
    PORTAL = "portal", _("Portal")
    LETTER = "letter", _("Letter")
    CHAT = "chat", _("Chat")
    TICKET = "ticket", _("Ticket")


CHANNEL_ICONS: dict[str, str] = {
    Channel.EMAIL: "envelope",
    Channel.PHONE: "telephone",
    Channel.MEETING: "people",
    Channel.PORTAL: "window",
    Channel.LETTER: "mailbox",
    Channel.CHAT: "chat-dots",
    Channel.TICKET: "ticket",
}


class CommunicationStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    TRIAGE = "triage", _("Waiting in triage")
    DISMISSED = "dismissed", _("Dismissed")


STATUS_COLOURS: dict[str, str] = {
    CommunicationStatus.FILED: "success",
    CommunicationStatus.TRIAGE: "warning",
    CommunicationStatus.DISMISSED: "secondary",
}


class Phase(models.TextChoices):
    """The phases of the customer lifecycle that clause 8.2.1 names."""

    PRE_SALE = "pre_sale", _("Pre-sale information")
    ENQUIRY = "enquiry", _("Enquiry intake")
    QUOTE_ORDER = "quote_order", _("Quote, contract and order")
    DELIVERY = "delivery", _("Delivery and status")
    FEEDBACK = "feedback", _("Feedback and complaints")
    PROPERTY = "property", _("Customer property")


class RunKind(models.TextChoices):
    IMAP = "imap", _("IMAP fetch")
    FILE = "file", _("File import")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
