"""Kinds of controlled documents, the states of their versions, and how copies reach customers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    SPEC_SHEET = "spec_sheet", _("Specification sheet")
    SERVICE_DESCRIPTION = "service_description", _("Service description")
    QUOTE_TEMPLATE = "quote_template", _("Quote template")
    CONTRACT_TERMS = "contract_terms", _("Contract terms")
    PROCEDURE = "procedure", _("Procedure")
    WORK_INSTRUCTION = "work_instruction", _("Work instruction")
    NOTICE_TEMPLATE = "notice_template", _("Customer-facing notice template")


# Kinds that exist to be given to customers; their page lists who holds which version.
CUSTOMER_FACING_KINDS = frozenset(
    {
        DocumentKind.SPEC_SHEET,
        DocumentKind.SERVICE_DESCRIPTION,
        DocumentKind.QUOTE_TEMPLATE,
        DocumentKind.CONTRACT_TERMS,
        DocumentKind.NOTICE_TEMPLATE,
    }
)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SUPERSEDED = "superseded", _("Superseded")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A version in one of these states is still being written and may change.
EDITABLE_STATES = frozenset({VersionStatus.DRAFT})
# Versions in these states are history: never edited, never sent.
CLOSED_STATES = frozenset({VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN})
VERSION_COLOURS: dict[str, str] = {
    VersionStatus.DRAFT: "secondary",
    VersionStatus.IN_REVIEW: "warning",
    VersionStatus.APPROVED: "success",
    VersionStatus.SUPERSEDED: "dark",
    VersionStatus.WITHDRAWN: "danger",
}


class Occasion(models.TextChoices):
    """Why a copy of a version reached a customer."""

    COMMUNICATION = "communication", _("With a communication")
    QUOTE = "quote", _("With a quote")
    ORDER = "order", _("With an order or contract")
    NOTICE = "notice", _("Notice of a revision")
    BY_HAND = "by_hand", _("Recorded by hand")
