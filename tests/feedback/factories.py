"""Factories for the feedback models (sources, taxonomy, items, import batches)."""

from __future__ import annotations

import datetime as dt
import io

import factory
from django.utils import timezone

from harken.core.files import store_file
from harken.feedback.choices import ItemKind, RuleKind, SourceKind
from harken.feedback.models import (
    Category,
    ClassificationRule,
    FeedbackItem,
    ImportBatch,
    PerceptionSource,
)


class PerceptionSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PerceptionSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n:03d}")
    kind = SourceKind.SURVEY
    structured = True
    owner_role = "quality_manager"
    collection_method = "Quarterly e-mail survey"
    storage_location = "Harken"
    retention = "7 years"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.LazyAttribute(lambda c: f"Category {c.code}")


class ClassificationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassificationRule

    category = factory.SubFactory(CategoryFactory)
    kind = RuleKind.KEYWORD
    pattern = factory.Sequence(lambda n: f"word{n}")


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    """An item as intake leaves it: new, unconfirmed; complaints get a complaint number."""

    class Meta:
        model = FeedbackItem

    source = factory.SubFactory(PerceptionSourceFactory)
    kind = ItemKind.SUGGESTION
    received_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    title = ""
    text = factory.Sequence(lambda n: f"Feedback text number {n}")
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    complaint_number = factory.LazyAttributeSequence(
        lambda item, n: f"CMP-TEST-{n:04d}" if item.kind == ItemKind.COMPLAINT else None
    )


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    source = factory.SubFactory(PerceptionSourceFactory)
    file = factory.LazyFunction(
        lambda: store_file(io.BytesIO(b"Date,Text\n2026-01-05,Fine\n"), name="upload.csv")
    )
    preset = "generic"
