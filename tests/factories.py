"""Factories for every model, and the personas of the permission tests."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from harken.core.choices import Role
from harken.core.models import User
from harken.customers.choices import CustomerStatus, Segment
from harken.customers.models import Contact, Customer, ProductLine, Region
from harken.feedback.models import Category, FeedbackItem, PerceptionSource

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in extracted))


def persona(role: str | None, username: str) -> User:
    return UserFactory(username=username, roles=[role] if role else [])


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"R{n}")
    name = factory.LazyAttribute(lambda r: f"Region {r.code}")


class ProductLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductLine
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.LazyAttribute(lambda p: f"Line {p.code}")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:04d} Ltd")
    segment = Segment.STANDARD
    region = factory.SubFactory(RegionFactory)
    status = CustomerStatus.ACTIVE


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@customer.example")


ROLE_PERSONAS = {
    "quality_manager": Role.QUALITY_MANAGER,
    "analyst": Role.QUALITY_ANALYST,
    "staff": Role.CUSTOMER_FACING,
    "owner": Role.ACTION_OWNER,
    "auditor": Role.AUDITOR,
    "administrator": Role.ADMINISTRATOR,
    "outsider": None,
}


# Feedback ---------------------------------------------------------------------------


class PerceptionSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PerceptionSource
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = "complaints_inbox"
    structured = False
    owner_role = Role.QUALITY_MANAGER
    default_kind = "complaint"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.LazyAttribute(lambda c: c.code.title())


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackItem

    source = factory.SubFactory(PerceptionSourceFactory)
    kind = "complaint"
    received_at = factory.LazyFunction(timezone.now)
    title = factory.Sequence(lambda n: f"Feedback {n}")
    text = "The delivery was late."
    dedupe_key = factory.Sequence(lambda n: f"x:factory-{n}")
