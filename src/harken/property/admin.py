from typing import Any

from django.contrib import admin

from .models import (
    CustodyEvent,
    InventoryCheck,
    InventoryCheckLine,
    ItemFile,
    PropertyIncident,
    PropertyItem,
)

admin.site.register([PropertyItem, PropertyIncident, ItemFile, InventoryCheck, InventoryCheckLine])


@admin.register(CustodyEvent)
class CustodyEventAdmin(admin.ModelAdmin):
    """Read-only: the chain of custody is append-only, in the admin too."""

    list_display = ("item", "sequence", "kind", "occurred_at", "performed_by")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
