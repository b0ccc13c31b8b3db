"""Customers, contacts, product and service lines, regions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from harken.core.models import NumberedModel, TrackedModel
from harken.core.workflow import Transition

from .choices import CustomerStatus, OfferingKind, Segment


class Region(TrackedModel):
    """A sales or service region; feedback and rates are broken down by it."""

    name = models.CharField(
        verbose_name=_("name"),
        max_length=100,
        unique=True,
    )
    code = models.CharField(
        verbose_name=_("code"),
        max_length=16,
        unique=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class ProductLine(TrackedModel):
    """A product or service line; the unit of trending and of effectiveness checks."""

    name = models.CharField(
        verbose_name=_("name"),
        max_length=100,
        unique=True,
    )
    code = models.CharField(
        verbose_name=_("code"),
        max_length=16,
        unique=True,
    )
    kind = models.CharField(
        verbose_name=_("kind"),
        max_length=16,
        choices=OfferingKind.choices,
        default=OfferingKind.PRODUCT,
    )
    description = models.TextField(
        verbose_name=_("description"),
        blank=True,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("product line")
        verbose_name_plural = _("product lines")

    def __str__(self) -> str:
        return self.name


class Customer(NumberedModel):
    """A customer organisation."""

    number_prefix = "CUS"

    name = models.CharField(
        verbose_name=_("name"),
        max_length=200,
        db_index=True,
    )
    segment = models.CharField(
        verbose_name=_("segment"),
        max_length=20,
        choices=Segment.choices,
        default=Segment.STANDARD,
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="customers",
    )
    account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    status = models.CharField(
        verbose_name=_("status"),
        max_length=16,
        choices=CustomerStatus.choices,
        default=CustomerStatus.ACTIVE,
    )
    product_lines = models.ManyToManyField(
        ProductLine,
        verbose_name=_("product lines"),
        blank=True,
        related_name="customers",
    )
    customer_since = models.DateField(
        verbose_name=_("customer since"),
        null=True,
        blank=True,
        help_text=_(
            "When the relationship began (for retention); empty means when it was recorded."
        ),
    )
    email_domain = models.CharField(
        verbose_name=_("e-mail domain"),
        max_length=255,
        blank=True,
        help_text=_("Mail from this domain is filed under this customer (example.com)."),
    )
    external_ref = models.CharField(
        verbose_name=_("reference in other systems"),
        max_length=100,
        blank=True,
        db_index=True,
    )
    notes = models.TextField(
        verbose_name=_("notes"),
        blank=True,
    )

    transitions = (
        Transition(
            name="activate",
            label="Activate",
            sources=frozenset({CustomerStatus.PROSPECT, CustomerStatus.INACTIVE}),
            target=CustomerStatus.ACTIVE,
            style="success",
        ),
        Transition(
            name="deactivate",
            label="Deactivate",
            sources=frozenset({CustomerStatus.ACTIVE, CustomerStatus.PROSPECT}),
            target=CustomerStatus.INACTIVE,
            style="outline-secondary",
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["status", "name"], name="customer_status_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TrackedModel):
    """A person at a customer whom we talk to and survey."""

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="contacts",
    )
    name = models.CharField(
        verbose_name=_("name"),
        max_length=200,
    )
    email = models.EmailField(
        verbose_name=_("e-mail"),
        blank=True,
        db_index=True,
    )
    phone = models.CharField(
        verbose_name=_("phone"),
        max_length=40,
        blank=True,
    )
    job_title = models.CharField(
        verbose_name=_("job title"),
        max_length=120,
        blank=True,
    )
    language = models.CharField(
        verbose_name=_("language"),
        max_length=8,
        default="en",
    )
    is_primary = models.BooleanField(
        verbose_name=_("primary contact"),
        default=False,
    )
    active = models.BooleanField(
        verbose_name=_("active"),
        default=True,
    )

    class Meta:
        ordering = ["customer__name", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "email"],
                condition=~models.Q(email=""),
                name="contact_unique_email_per_customer",
                violation_error_message=_("This customer already has a contact with this e-mail."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"
