"""HTML mail made safe to show: scripts, styles, event handlers, remote images and
`javascript:` links removed by an allow-list sanitiser (nh3, the Rust ammonia library).

Plain Python, no Django. The page shows the result inside a sandboxed iframe as well,
so a sanitiser miss still cannot run script in Harken's origin.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
# No style, class or id (they can overlay or imitate Harken's own page), no img (a
# remote image tells the sender when and where the mail was read).
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto"}

BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/tr|/h[1-6]|/li|/blockquote|hr\s*/?)\s*>")
CELL_END = re.compile(r"(?i)<\s*/t[dh]\s*>")
BLANKS = re.compile(r"[ \t\u00a0]+")
MANY_LINES = re.compile(r"\n{3,}")


def sanitise_html(markup: str) -> str:
    """The allow-listed subset of `markup`: formatting and links, nothing that runs."""
    if not markup.strip():
        return ""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(markup: str) -> str:
    """A readable plain-text rendering, for mail that came as HTML only."""
    if not markup.strip():
        return ""
    marked = CELL_END.sub("\t", BLOCK_END.sub("\n", markup))
    text = html.unescape(nh3.clean(marked, tags=set(), strip_comments=True))
    lines = [BLANKS.sub(" ", line).strip() for line in text.splitlines()]
    return MANY_LINES.sub("\n\n", "\n".join(lines)).strip()
