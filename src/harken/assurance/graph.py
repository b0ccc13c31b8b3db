"""The trace as a picture: one column per stage, a box per record, lines between them.

A small SVG writer of our own (no layout engine needed for six fixed columns); text is
escaped, boxes that are gaps are drawn dashed in red.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .choices import STAGE_ORDER, Stage
from .trace import Trace

COLUMN = 190
BOX_W = 170
BOX_H = 54
GAP_Y = 14
TOP = 40
MAX_CHARS = 30


def wrap(text: str, width: int = MAX_CHARS, lines: int = 2) -> list[str]:
    words, result, current = text.split(), [], ""
    for word in words:
        if len(current) + len(word) + 1 > width and current:
            result.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
        if len(result) == lines:
            break
    if len(result) < lines and current:
        result.append(current)
    if len(result) == lines and len(" ".join(result)) < len(text):
        result[-1] = result[-1][: width - 1] + "…"
    return result[:lines]


def render(trace: Trace) -> str:
    labels = dict(Stage.choices)
    positions: dict[str, tuple[float, float]] = {}
    boxes = []
    tallest = 0
    for column, stage in enumerate(STAGE_ORDER):
        nodes = [n for n in trace.nodes if n.stage == stage]
        tallest = max(tallest, len(nodes))
        x = 10 + column * COLUMN
        boxes.append(
            f'<text x="{x + BOX_W / 2}" y="22" text-anchor="middle" class="stage">{escape(str(labels[stage]))}</text>'
        )
        for row, node in enumerate(nodes):
            y = TOP + row * (BOX_H + GAP_Y)
            if node.key:
                positions[node.key] = (x, y)
            style = "gap" if node.gap else "node"
            lines = wrap(node.title)
            text = "".join(
                f'<tspan x="{x + 8}" dy="{15 if i == 0 else 14}">{escape(line)}</tspan>'
                for i, line in enumerate(lines)
            )
            body = (
                f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" class="{style}"/>'
                f'<text x="{x + 8}" y="{y + 6}" class="label">{text}</text>'
            )
            if node.url and not node.gap:
                body = f'<a href="{escape(node.url)}">{body}</a>'
            boxes.append(body)
    lines = []
    for a, b in trace.edges:
        if a in positions and b in positions:
            (x1, y1), (x2, y2) = positions[a], positions[b]
            lines.append(
                f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H / 2}" x2="{x2}" y2="{y2 + BOX_H / 2}" class="edge"/>'
            )
    width = 20 + len(STAGE_ORDER) * COLUMN
    height = TOP + max(tallest, 1) * (BOX_H + GAP_Y) + 10
    style = (
        "<style>.stage{font:bold 13px sans-serif;fill:#222}.label{font:11px sans-serif;fill:#111}"
        ".node{fill:#eef4ff;stroke:#3465a4}.gap{fill:#fff3f3;stroke:#c0392b;stroke-dasharray:5 3}"
        ".edge{stroke:#777;stroke-width:1.2}</style>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="Trace of {escape(str(trace.subject))}">'
        f"{style}{''.join(lines)}{''.join(boxes)}</svg>"
    )
