"""Printable labels: the item number as a QR code that opens the item's scan page.

segno (pure Python) draws the code as inline SVG, which prints sharply at any size and
needs no image request; it is imported here only, when a label is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from .models import PropertyItem


def scan_url(request: HttpRequest, item: PropertyItem) -> str:
    """The absolute address a phone's camera opens from the label."""
    return request.build_absolute_uri(reverse("property:scan", args=[item.number]))


def qr_svg(data: str, *, scale: int = 3, title: str = "") -> SafeString:
    """`data` as a QR code (error correction M: a scuffed label still reads) in inline SVG."""
    import segno

    code = segno.make(data, error="m", micro=False)
    # segno escapes the title; the rest of the markup is its own.
    return mark_safe(code.svg_inline(scale=scale, border=2, title=title or None))


@dataclass(frozen=True)
class Label:
    item: PropertyItem
    url: str
    qr: SafeString


def labels_for(request: HttpRequest, items: list[PropertyItem]) -> list[Label]:
    result = []
    for item in items:
        url = scan_url(request, item)
        result.append(Label(item, url, qr_svg(url, title=f"QR code of {item.number}")))
    return result
