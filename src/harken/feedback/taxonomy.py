"""The starting taxonomy: categories with keyword rules, and impact criteria.

Seeded once, after migrations, through the ordinary models so the seed is on the
audit trail; the quality manager edits it from then on.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from harken.core.audit import Actor, audit_context

from .choices import Impact, RuleKind
from .models import Category, ClassificationRule, ImpactLevel

# code, name, description, rules (kind, pattern, weight)
CATEGORIES: tuple[tuple[str, str, str, tuple[tuple[str, str, int], ...]], ...] = (
    (
        "delivery",
        "Delivery",
        "Late, incomplete or wrong deliveries; shipping damage; lead times.",
        (
            ("keyword", "late", 2),
            ("keyword", "delay", 2),
            ("keyword", "delayed", 2),
            ("keyword", "shipment", 1),
            ("keyword", "shipping", 1),
            ("keyword", "courier", 1),
            ("keyword", "carrier", 1),
            ("phrase", "lead time", 2),
            ("phrase", "not arrived", 3),
            ("phrase", "wrong quantity", 2),
            ("keyword", "delivery", 1),
        ),
    ),
    (
        "quality_defect",
        "Quality defect",
        "Parts or services that do not meet the specification.",
        (
            ("keyword", "defect", 3),
            ("keyword", "defective", 3),
            ("keyword", "broken", 2),
            ("keyword", "crack", 2),
            ("keyword", "cracked", 2),
            ("keyword", "leak", 2),
            ("keyword", "leaking", 2),
            ("phrase", "out of tolerance", 3),
            ("phrase", "out of spec", 3),
            ("keyword", "nonconforming", 3),
            ("keyword", "scratches", 1),
        ),
    ),
    (
        "documentation",
        "Documentation",
        "Certificates, drawings, manuals and paperwork.",
        (
            ("keyword", "certificate", 2),
            ("keyword", "manual", 1),
            ("keyword", "documentation", 2),
            ("keyword", "drawing", 1),
            ("phrase", "certificate of conformity", 3),
            ("phrase", "delivery note", 1),
        ),
    ),
    (
        "billing",
        "Billing",
        "Invoices, prices, credit notes and payment.",
        (
            ("keyword", "invoice", 3),
            ("keyword", "invoiced", 3),
            ("keyword", "billing", 3),
            ("keyword", "overcharged", 3),
            ("phrase", "credit note", 3),
            ("keyword", "price", 1),
        ),
    ),
    (
        "responsiveness",
        "Responsiveness",
        "Slow or missing answers, hard to reach, no follow-up.",
        (
            ("phrase", "no response", 3),
            ("phrase", "no reply", 3),
            ("phrase", "not responding", 3),
            ("phrase", "chased", 2),
            ("phrase", "waiting for", 1),
            ("keyword", "unanswered", 3),
            ("keyword", "callback", 2),
        ),
    ),
    (
        "security_privacy",
        "Security and privacy",
        "Data protection, access, confidentiality.",
        (
            ("keyword", "gdpr", 3),
            ("keyword", "privacy", 3),
            ("keyword", "confidential", 2),
            ("phrase", "data breach", 3),
            ("keyword", "password", 2),
        ),
    ),
    (
        "usability",
        "Usability",
        "Hard to use, install or order.",
        (
            ("keyword", "confusing", 2),
            ("phrase", "hard to use", 3),
            ("phrase", "difficult to", 1),
            ("keyword", "portal", 1),
        ),
    ),
    (
        "product_performance",
        "Product performance",
        "Wear, durability and performance in use.",
        (
            ("keyword", "wear", 2),
            ("keyword", "worn", 2),
            ("keyword", "failure", 2),
            ("keyword", "failed", 2),
            ("keyword", "performance", 1),
            ("keyword", "corrosion", 2),
        ),
    ),
    ("other", "Other", "Anything that fits no other category.", ()),
)

IMPACT_CRITERIA = {
    Impact.MINOR: "Inconvenience only: no effect on the customer's product, safety or contract.",
    Impact.MAJOR: (
        "Affects a contract requirement, the customer's production or costs, "
        "or recurs within 90 days."
    ),
    Impact.CRITICAL: (
        "Safety, legal or regulatory consequence, a line stop at the customer, "
        "or loss of the account at risk."
    ),
}


def seed_taxonomy(**kwargs: Any) -> None:
    """Create the starting categories, rules and impact criteria once."""
    if Category.objects.exists():
        return
    with audit_context(actor=Actor.system("seed")), transaction.atomic():
        for code, name, description, rules in CATEGORIES:
            category = Category.objects.create(code=code, name=name, description=description)
            for kind, pattern, weight in rules:
                ClassificationRule.objects.create(
                    category=category, kind=RuleKind(kind), pattern=pattern, weight=weight
                )
        for level, criteria in IMPACT_CRITERIA.items():
            ImpactLevel.objects.get_or_create(code=level, defaults={"criteria": criteria})
