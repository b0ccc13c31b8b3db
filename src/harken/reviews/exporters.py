"""The pack as a document: one HTML rendering of the frozen content, and its PDF.

Heavy libraries load here, only when a document is asked for (WeasyPrint for PDF).
The HTML is self-contained (styles and SVG charts inline), so the stored file is the
whole evidence on its own.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from .choices import PackKind


def render_html(pack: Any, content: dict[str, Any]) -> str:
    template = (
        "reviews/management_document.html"
        if content.get("kind") == PackKind.MANAGEMENT
        else "reviews/pack_document.html"
    )
    return render_to_string(template, {"pack": pack, "c": content})


def render_pdf(pack: Any, content: dict[str, Any]) -> bytes:
    import logging

    from weasyprint import HTML

    # WeasyPrint reports every CSS property it ignores; they are not problems here.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=render_html(pack, content)).write_pdf()
