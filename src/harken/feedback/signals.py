"""Signals feedback sends for work that bypasses model saves (bulk imports, re-mapping).

`items_changed(span=(first, last))`: items received between the two moments changed
in bulk; whoever keeps derived data (the insights rollups) recounts that span.
`items_added(items=[...])`: new items were inserted in bulk; derived data adds them.
"""

from django.dispatch import Signal

items_changed = Signal()


def bulk_changed(sender: object, first: object, last: object) -> None:
    if first is not None and last is not None:
        items_changed.send(sender=sender, span=(first, last))


def batch_changed(batch: object) -> None:
    """Announce the span of an import batch's items (after it landed or was scored)."""
    from django.db.models import Max, Min

    span = batch.items.aggregate(first=Min("received_at"), last=Max("received_at"))  # type: ignore[attr-defined]
    bulk_changed(type(batch), span["first"], span["last"])


# New items inserted in bulk (no save, so no post_save): cheaper to add than to recount
# their days, which grow with the day's volume.
items_added = Signal()


def bulk_added(sender: object, items: list[object]) -> None:
    if items:
        items_added.send(sender=sender, items=items)
