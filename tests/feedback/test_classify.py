"""Category suggestion rules (pure)."""

import pytest

from harken.feedback.classify import InvalidPattern, RuleSet, RuleSpec, words_of


def rules(*specs: tuple[int, int, str, str, int]) -> RuleSet:
    return RuleSet(RuleSpec(*spec) for spec in specs)


def test_keyword_matches_whole_words_only_and_ignores_case():
    ruleset = rules((1, 10, "keyword", "late", 1))
    assert ruleset.suggest("It came LATE.").category_id == 10
    assert ruleset.suggest("We translated the manual") is None
    assert ruleset.suggest("") is None


def test_phrase_needs_its_words_in_order():
    ruleset = rules((1, 10, "phrase", "lead time", 2))
    assert ruleset.suggest("The lead   time is too long").rule_id == 1
    assert ruleset.suggest("time to lead") is None


def test_heaviest_category_wins_and_reports_its_heaviest_rule():
    ruleset = rules(
        (1, 10, "keyword", "late", 1),
        (2, 10, "keyword", "delay", 1),
        (3, 20, "keyword", "invoice", 3),
    )
    suggestion = ruleset.suggest("late and delayed? no: a delay, and late again, invoice wrong")
    assert suggestion.category_id == 10  # late 2 + delay 1 = 3 ties invoice 3; first rule wins
    assert suggestion.score == 3
    assert suggestion.rule_id == 1


def test_regex_rules_scan_the_text():
    ruleset = rules((7, 30, "regex", r"PO-\d{5}", 1))
    assert ruleset.suggest("about PO-12345 and PO-99999").score == 2


def test_a_broken_regex_is_named():
    with pytest.raises(InvalidPattern, match="not a valid regular expression"):
        rules((1, 1, "regex", "([unclosed", 1))


def test_a_pattern_without_words_is_refused():
    with pytest.raises(InvalidPattern):
        rules((1, 1, "keyword", "   ", 1))


def test_ascii_and_other_text_split_into_the_same_words():
    ascii_text = "Late_delivery: PO-123, (again)!\tCracked\x1fvalve's seal"
    assert words_of(ascii_text) == [
        "late_delivery",
        "po",
        "123",
        "again",
        "cracked",
        "valve",
        "s",
        "seal",
    ]
    assert words_of(ascii_text + " é") == [*words_of(ascii_text), "é"]
    assert words_of("Straße ÜBER") == ["strasse", "über"]
