from django.db import models
from django.utils.translation import gettext_lazy as _


class Segment(models.TextChoices):
    KEY_ACCOUNT = "key_account", _("Key account")
    STRATEGIC = "strategic", _("Strategic")
    STANDARD = "standard", _("Standard")
    DISTRIBUTOR = "distributor", _("Distributor")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


STATUS_COLOURS: dict[str, str] = {
    CustomerStatus.PROSPECT: "info",
    CustomerStatus.ACTIVE: "success",
    CustomerStatus.INACTIVE: "secondary",
}


class OfferingKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")
