"""The method documents every installation starts with, seeded from editable templates.

The 9.1.2 procedure, the 8.2.1 customer communication procedure and the revision
notice are created once, each as a draft version 1.0 for the quality manager to edit,
review and approve; from then on they are ordinary controlled documents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db import transaction

from harken.core.audit import Actor, audit_context
from harken.core.choices import Role

from .choices import DocumentKind
from .models import Document, DocumentVersion

METHOD_DIR = Path(__file__).resolve().parent / "templates" / "documents" / "method"


METHOD_DOCUMENTS: tuple[dict[str, Any], ...] = (
    {
        "template_key": "procedure-9.1.2",
        "title": "Monitoring customer satisfaction",
        "kind": DocumentKind.PROCEDURE,
        "clauses": "9.1.2",
        "purpose": "How we obtain, monitor and review customers' perceptions (the 9.1.2 method).",
        "acknowledge_roles": [Role.CUSTOMER_FACING],
        "file": "customer-satisfaction-9-1-2.md",
    },
    {
        "template_key": "procedure-8.2.1",
        "title": "Customer communication",
        "kind": DocumentKind.PROCEDURE,
        "clauses": "8.2.1",
        "purpose": "What we record of every customer interaction, and how information "
        "given to customers is controlled.",
        "acknowledge_roles": [Role.CUSTOMER_FACING],
        "file": "customer-communication-8-2-1.md",
    },
    {
        "template_key": "notice-revision",
        "title": "Notice of a revised document",
        "kind": DocumentKind.NOTICE_TEMPLATE,
        "clauses": "8.2.1, 7.5.3",
        "purpose": "The text sent to customers who hold a superseded version. Placeholders: "
        "$contact, $customer, $document, $old_version, $new_version, $effective_from, "
        "$change_summary, $sender, $company.",
        "acknowledge_roles": [],
        "file": "revision-notice.md",
    },
)


def template_text(name: str) -> str:
    return (METHOD_DIR / name).read_text(encoding="utf-8")


def seed_method_documents(**kwargs: Any) -> None:
    """Create each method document once (found again by its template key)."""
    existing = set(Document.objects.exclude(template_key="").values_list("template_key", flat=True))
    missing = [spec for spec in METHOD_DOCUMENTS if spec["template_key"] not in existing]
    if not missing:
        return
    with audit_context(actor=Actor.system("seed")), transaction.atomic():
        for spec in missing:
            fields = {k: v for k, v in spec.items() if k != "file"}
            document = Document.objects.create(owner_role=Role.QUALITY_MANAGER, **fields)
            DocumentVersion.objects.create(
                document=document,
                label="1.0",
                body=template_text(spec["file"]),
                change_summary="First issue, from Harken's template.",
            )
