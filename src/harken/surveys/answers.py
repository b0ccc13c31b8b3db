"""Checking a respondent's answers against the questions (plain Python, no Django).

A form arrives as strings; each question turns its field into a clean value or an
error code that the page words in the survey's language (`texts.ui`). Answers are
stored by question id, so a survey's questions may be worded in several languages
and every answer still means the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Scale -> (lowest, highest). The same codes as feedback's scales.
SCALE_BOUNDS: dict[str, tuple[int, int]] = {
    "nps": (0, 10),
    "csat": (1, 5),
    "ces": (1, 7),
    "stars": (1, 5),
}
MAX_TEXT = 5000


@dataclass(frozen=True)
class QuestionSpec:
    """What checking needs to know of one question."""

    id: int
    kind: str
    required: bool = False
    scale: str = ""
    options: Sequence[str] = ()

    @property
    def key(self) -> str:
        return f"q{self.id}"


@dataclass
class Checked:
    """Clean answers by question id, and error codes (with their parameters) by question id."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# NUL carries nothing a respondent meant, and PostgreSQL cannot store it in text or JSON.
def _text(raw: Any) -> str:
    return str(raw).replace("\x00", "").strip()


def _one(raw: Any) -> str:
    if isinstance(raw, list | tuple):
        raw = raw[-1] if raw else ""
    return _text(raw if raw is not None else "")


def _many(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    return [_text(v) for v in raw if _text(v)]


def check(
    questions: Sequence[QuestionSpec],
    data: Mapping[str, Any],
    *,
    final: bool,
) -> Checked:
    """Check the fields of `data` (`q<id>` per question; lists for multiple choice).

    A partial save (`final=False`) keeps whatever is valid and ignores what is missing;
    a final answer needs every required question. Unknown fields are ignored.
    """
    result = Checked()
    for q in questions:
        raw = data.get(q.key)
        if q.kind == "multiple":
            chosen = _many(raw)
            unknown = [c for c in chosen if c not in q.options]
            if unknown:
                result.errors[str(q.id)] = ("choice", {})
            elif chosen:
                # Keep the options' own order, once each.
                result.values[str(q.id)] = [o for o in q.options if o in chosen]
            elif final and q.required:
                result.errors[str(q.id)] = ("required", {})
            continue
        value = _one(raw)
        if not value:
            if final and q.required:
                result.errors[str(q.id)] = ("required", {})
            continue
        if q.kind in {"score", "rating"}:
            low, high = SCALE_BOUNDS.get(q.scale, (0, 10))
            try:
                number = int(value)
            except ValueError:
                result.errors[str(q.id)] = ("range", {"low": low, "high": high})
                continue
            if not low <= number <= high:
                result.errors[str(q.id)] = ("range", {"low": low, "high": high})
                continue
            result.values[str(q.id)] = number
        elif q.kind == "choice":
            if value not in q.options:
                result.errors[str(q.id)] = ("choice", {})
            else:
                result.values[str(q.id)] = value
        else:
            if len(value) > MAX_TEXT:
                result.errors[str(q.id)] = ("too_long", {"limit": MAX_TEXT})
            else:
                result.values[str(q.id)] = value
    return result
