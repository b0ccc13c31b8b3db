"""First-pass category suggestion from keyword, phrase and pattern rules (no Django).

A text is split into words once; keyword and phrase rules are found by dictionary
look-up, regular-expression rules by their own scan. Each match adds its rule's weight
to its category and the heaviest category wins (ties go to the rule defined first).
The heaviest rule of the winner is reported, so a person can see why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the classifier needs it."""

    rule_id: int
    category_id: int
    kind: str  # "keyword", "phrase" or "regex"
    pattern: str
    weight: int = 1


@dataclass(frozen=True)
class Suggestion:
    category_id: int
    rule_id: int
    score: int


class InvalidPattern(ValueError):
    """A regex rule that does not compile; the message names it."""


def pattern_source(kind: str, pattern: str) -> str:
    if kind == "regex":
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidPattern(f"{pattern!r} is not a valid regular expression: {exc}") from exc
        return f"(?:{pattern})"
    words = [re.escape(word) for word in pattern.strip().split()]
    if not words:
        raise InvalidPattern("A rule needs a word or phrase.")
    # Whole words only, with any run of spaces between the words of a phrase.
    return r"\b" + r"\s+".join(words) + r"\b"


WORD = re.compile(r"\w+")
# Every ASCII character that is not a word character (\w), as a space.
_ASCII_GAPS = bytes(code for code in range(128) if not WORD.match(chr(code)))
_ASCII_TO_SPACE = bytes.maketrans(_ASCII_GAPS, b" " * len(_ASCII_GAPS))


def words_of(text: str) -> list[str]:
    if text.isascii():
        # The words the regular expression finds, in a third of the time: an import splits
        # the text of every row (RuleSet.suggest).
        return text.lower().encode().translate(_ASCII_TO_SPACE).decode().split()
    return WORD.findall(text.casefold())


class RuleSet:
    """Compiled rules; `suggest(text)` returns the winning category or None.

    Keywords and phrases are looked up word by word in dictionaries, so the cost of a
    text is one pass over its words whatever the number of rules; only regular
    expression rules scan the text themselves.
    """

    def __init__(self, rules: Iterable[RuleSpec]) -> None:
        self.rules = list(rules)
        # first word -> [(the phrase's words, rule index)]; a keyword is a one-word phrase
        self.phrases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        self.patterns: list[tuple[re.Pattern[str], int]] = []
        for index, rule in enumerate(self.rules):
            source = pattern_source(rule.kind, rule.pattern)  # validates every kind
            if rule.kind == "regex":
                self.patterns.append((re.compile(source, re.IGNORECASE), index))
                continue
            words = tuple(words_of(rule.pattern))
            if not words:
                raise InvalidPattern(f"{rule.pattern!r} has no word to look for.")
            self.phrases.setdefault(words[0], []).append((words, index))

    def suggest(self, text: str) -> Suggestion | None:
        if not text or not self.rules:
            return None
        hits: list[int] = []
        words = words_of(text)
        phrases = self.phrases
        for position, word in enumerate(words):
            candidates = phrases.get(word)
            if candidates is None:
                continue
            for sequence, index in candidates:
                size = len(sequence)
                if size == 1 or tuple(words[position : position + size]) == sequence:
                    hits.append(index)
        for regex, index in self.patterns:
            hits.extend(index for _ in regex.finditer(text))
        if not hits:
            return None
        totals: dict[int, int] = {}
        best_rule: dict[int, int] = {}  # category -> index of its heaviest rule (first on ties)
        for index in hits:
            rule = self.rules[index]
            totals[rule.category_id] = totals.get(rule.category_id, 0) + rule.weight
            current = best_rule.get(rule.category_id)
            if (
                current is None
                or rule.weight > self.rules[current].weight
                or (rule.weight == self.rules[current].weight and index < current)
            ):
                best_rule[rule.category_id] = index
        winner = max(totals, key=lambda cat: (totals[cat], -best_rule[cat]))
        return Suggestion(winner, self.rules[best_rule[winner]].rule_id, totals[winner])
