"""Roles and the other shared choices."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles people hold in Harken; each is a Django group of the same name."""

    QUALITY_MANAGER = "quality_manager", _("Quality manager")
    QUALITY_ANALYST = "quality_analyst", _("Quality analyst")
    CUSTOMER_FACING = "customer_facing", _("Customer-facing staff")
    ACTION_OWNER = "action_owner", _("Action owner")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


QUALITY_ROLES = frozenset({Role.QUALITY_MANAGER, Role.QUALITY_ANALYST})


class ActorType(models.TextChoices):
    """Who caused an audit event."""

    USER = "user", _("User")
    TOKEN = "token", _("API token")
    IMPORT = "import", _("Import batch")
    SYSTEM = "system", _("System")


class RetentionAction(models.TextChoices):
    """What happens to a record once its retention period has passed (core/retention.py)."""

    REVIEW = "review", _("Review")
    ANONYMISE = "anonymise", _("Anonymise")
    DELETE = "delete", _("Delete")
