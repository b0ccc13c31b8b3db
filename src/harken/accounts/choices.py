"""What a lock-out applies to."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class LockScope(models.TextChoices):
    ACCOUNT = "account", _("Account")
    ADDRESS = "address", _("Client address")
