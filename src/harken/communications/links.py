"""The kinds of records a communication can concern, found by their human numbers.

Feedback items and actions are registered here; an app added later (orders, property)
registers its own models from its AppConfig.ready():

    from harken.communications.links import register_linkable
    register_linkable("orders.order", ("number",), "Order")

and from then on people type its numbers in a communication's "concerns" field.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class Linkable:
    model: str  # app_label.model_name
    number_fields: tuple[str, ...]
    label: str


LINKABLE: dict[str, Linkable] = {}


def register_linkable(model: str, number_fields: tuple[str, ...], label: str) -> None:
    LINKABLE[model] = Linkable(model, number_fields, label)


def model_of(linkable: Linkable) -> type[models.Model] | None:
    try:
        return apps.get_model(linkable.model)
    except LookupError:  # an app not installed here
        return None


def resolve(reference: str) -> models.Model | None:
    """The record whose number is `reference` (FB-…, CMP-…, ACT-…), or None."""
    reference = reference.strip()
    if not reference:
        return None
    for linkable in LINKABLE.values():
        model = model_of(linkable)
        if model is None:
            continue
        query = Q()
        for name in linkable.number_fields:
            query |= Q(**{f"{name}__iexact": reference})
        found = model._default_manager.filter(query).first()
        if found is not None:
            return found
    return None


def is_linkable(obj: models.Model) -> bool:
    return obj._meta.label_lower in LINKABLE


def label_of(obj: models.Model) -> str:
    linkable = LINKABLE.get(obj._meta.label_lower)
    numbers = [getattr(obj, name, "") for name in linkable.number_fields] if linkable else []
    number = next((n for n in reversed(numbers) if n), "") or str(obj.pk)
    kind = linkable.label if linkable else obj._meta.verbose_name
    return f"{kind} {number}"


def register_defaults() -> None:
    register_linkable("feedback.feedbackitem", ("number", "complaint_number"), "Feedback")
    register_linkable("actions.action", ("number",), "Action")
