"""Factories for the document models, and a helper that takes a version through approval."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.utils import timezone
from tests.factories import ROLE_PERSONAS, persona

from harken.documents import services
from harken.documents.choices import DocumentKind
from harken.documents.models import Document, DocumentVersion


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    title = factory.Sequence(lambda n: f"Spec sheet {n}")
    kind = DocumentKind.SPEC_SHEET
    owner_role = "quality_manager"
    clauses = "8.2.1"


class DocumentVersionFactory(factory.django.DjangoModelFactory):
    """A draft."""

    class Meta:
        model = DocumentVersion

    document = factory.SubFactory(DocumentFactory)
    label = factory.Sequence(lambda n: f"{n}.0")
    body = factory.LazyAttribute(lambda v: f"Text of version {v.label}.")
    change_summary = "Changed."


def approver() -> Any:
    return persona(ROLE_PERSONAS["quality_manager"], "approver-qm")


def approved(
    document: Document | None = None,
    label: str | None = None,
    *,
    at: dt.datetime | None = None,
    effective_from: dt.date | None = None,
    **fields: Any,
) -> DocumentVersion:
    """A version taken through submit, review and approval by the services."""
    kwargs: dict[str, Any] = dict(fields)
    if document is not None:
        kwargs["document"] = document
    if label is not None:
        kwargs["label"] = label
    version = DocumentVersionFactory(**kwargs)
    person = approver()
    at = at or timezone.now()
    services.submit(version, actor=person)
    services.record_review(version, actor=person, at=at)
    return services.approve(version, actor=person, at=at, effective_from=effective_from)
