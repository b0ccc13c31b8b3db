"""harken.feedback.sentiment must score exactly like the stock vaderSentiment analyzer."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment import vaderSentiment as vader

from harken.feedback import sentiment
from harken.feedback.sentiment import Sentiment, label_for_score, score, score_many

GROUND_TRUTH = Path("/work/shared/data/ext/sentiment_vader_groundtruth/tweets_GroundTruth.txt")

STOCK = vader.SentimentIntensityAnalyzer()


def stock(text: str) -> tuple[float, float, float, float]:
    result = STOCK.polarity_scores(text)
    return result["compound"], result["pos"], result["neu"], result["neg"]


def ours(result: Sentiment) -> tuple[float, float, float, float]:
    return result.compound, result.positive, result.neutral, result.negative


def same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Equal bit for bit: equal values and equal signs (0.0 versus -0.0)."""
    return all(
        x == y and type(x) is type(y) and math.copysign(1, x) == math.copysign(1, y)
        for x, y in zip(a, b, strict=True)
    )


def ground_truth_texts() -> list[str]:
    if not GROUND_TRUTH.exists():
        pytest.skip(f"VADER ground-truth tweets not found at {GROUND_TRUTH}")
    texts = []
    with GROUND_TRUTH.open(encoding="utf-8") as handle:
        for line in handle:
            fields = line.rstrip("\n").split("\t", 2)
            if len(fields) == 3:
                texts.append(fields[2])
    assert len(texts) > 4000
    return texts


# --------------------------------------------------------------------------------------
# Exactness.


def test_the_fast_scorer_is_in_use() -> None:
    # Otherwise every comparison below would trivially pass against the stock code.
    assert sentiment._compute is sentiment._fast_scores, (
        "vaderSentiment is not 3.3.2: scores come from the slow stock analyzer"
    )


def test_ground_truth_tweets_score_exactly_like_stock() -> None:
    mismatches = [
        (text, stock(text), ours(score(text)))
        for text in ground_truth_texts()
        if not same(stock(text), ours(score(text)))
    ]
    assert mismatches == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \t\n ",
        "!!!",
        "?? ??",
        ":)",
        ":-( :-(",
        "ok",
        "no",
        "no good",
        "no no no",
        "not bad at all",
        "no or nor good",
        "this is not the shit",
        "It was the shit, but the bomb was bad ass",
        "kind of good",
        "kind of",
        "It is kind of great but sort of awful",
        "at least it works",
        "least good",
        "very least happy",
        "never so good",
        "never this bad",
        "without doubt great",
        "without a doubt great",
        "VERY GOOD service",
        "VERY good service, but BAD support!!!",
        "GOOD BAD",
        "good good good but bad bad bad",
        "but good",
        "good but",
        "good but but bad",
        "bus stop nice",
        "yeah right, great",
        "kiss of death lovely",
        "it is to die for",
        "my beating heart loves it",
        "just enough good",
        "Service 😀 was 😡okay😀😀 ",
        "😀",
        "🔛 great",
        # Greek capitals, with a final sigma that lower-cases by context: "ΠΟΛΥ ΚΑΛΟΣ good".
        "\u03a0\u039f\u039b\u03a5 \u039a\u0391\u039b\u039f\u03a3 good",
        "İSTANBUL GOOD ok",
        "ain't good, isn't bad, can't complain",
        "The product is great?!?!",
        "I don't hate it ... but I don't love it either ????",
    ],
)
def test_tricky_texts_score_exactly_like_stock(text: str) -> None:
    assert same(ours(score(text)), stock(text)), text


_LEXICON_WORDS = sorted(word for word in STOCK.lexicon if " " not in word)
_EMOJI_CHARS = sorted(key for key in STOCK.emojis if len(key) == 1)
_SPECIAL_WORDS = [
    "no",
    "not",
    "never",
    "without",
    "doubt",
    "least",
    "at",
    "very",
    "so",
    "this",
    "or",
    "nor",
    "but",
    "kind",
    "of",
    "sort",
    "kind of",
    "sort of",
    "just enough",
    "the shit",
    "the bomb",
    "bad ass",
    "yeah right",
    "bus stop",
    "kiss of death",
    "to die for",
    "beating heart",
    "cut the mustard",
    "isn't",
    "wasn't",
    "don't",
    "aint",
    "uh-uh",
    "!",
    "!!!",
    "?",
    "??",
    "????",
    ":)",
    ":(",
    ":-D",
    "<3",
    "'",
    "...",
    "--",
]
_FRAGMENTS = st.one_of(
    st.sampled_from(_LEXICON_WORDS),
    st.sampled_from(sorted(vader.NEGATE)),
    st.sampled_from(sorted(vader.BOOSTER_DICT)),
    st.sampled_from(_SPECIAL_WORDS),
    st.sampled_from(_EMOJI_CHARS),
    st.sampled_from(["service", "delivery", "the", "a", "staff", "order", "it", "was"]),
    st.text(max_size=6),
)
_CASED = st.tuples(_FRAGMENTS, st.sampled_from(["keep", "upper", "title", "lower"])).map(
    lambda pair: {
        "keep": pair[0],
        "upper": pair[0].upper(),
        "title": pair[0].title(),
        "lower": pair[0].lower(),
    }[pair[1]]
)
_SEPARATORS = st.sampled_from([" ", " ", " ", "  ", "", ",", ", ", ". ", "\t", "\n", "! ", "?"])


@st.composite
def feedback_text(draw: st.DrawFn) -> str:
    words = draw(st.lists(_CASED, max_size=25))
    parts = []
    for word in words:
        parts.append(word)
        parts.append(draw(_SEPARATORS))
    return "".join(parts)


@settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feedback_text())
def test_generated_feedback_scores_exactly_like_stock(text: str) -> None:
    assert same(ours(score(text)), stock(text)), repr(text)


# A small vocabulary makes repeated words (equal valences), which the stock "but"
# rule treats specially, and rule interactions at short distances common.
_SMALL_VOCABULARY = st.sampled_from(
    [
        *("good", "GOOD", "bad", "BAD", "great", "no", "not", "but", "But", "BUT", "very", "VERY"),
        *("kind", "of", "least", "at", "never", "so", "the", "shit", "okay", "!!", "?", ":)", "😀"),
    ]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_SMALL_VOCABULARY, max_size=16).map(" ".join))
def test_repetitive_feedback_scores_exactly_like_stock(text: str) -> None:
    assert same(ours(score(text)), stock(text)), repr(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_unicode_scores_exactly_like_stock(text: str) -> None:
    assert same(ours(score(text)), stock(text)), repr(text)


def test_str_subclass_is_scored_by_the_stock_analyzer() -> None:
    class Note(str):
        pass

    assert same(ours(score(Note("VERY good, but slow!"))), stock("VERY good, but slow!"))


def test_non_text_is_rejected() -> None:
    with pytest.raises(TypeError, match="bytes"):
        score(b"good")  # type: ignore[arg-type]


def test_labels_follow_the_compound_thresholds() -> None:
    assert sentiment.NEGATIVE_THRESHOLD == -0.05
    assert sentiment.POSITIVE_THRESHOLD == 0.05
    # The boundaries themselves (no text is known to score exactly +-0.05).
    label = sentiment._label
    assert [label(x) for x in (-1.0, -0.05, -0.0499, -0.0, 0.0, 0.0499, 0.05, 1.0)] == [
        *("negative", "negative", "neutral", "neutral"),
        *("neutral", "neutral", "positive", "positive"),
    ]
    for text in ["great", "terrible", "the table", "not bad", "", "okay", "no good"]:
        result = score(text)
        assert result.label == label(result.compound)
    assert score("great").label == "positive"
    assert score("terrible").label == "negative"
    assert score("the table").label == "neutral"


# --------------------------------------------------------------------------------------
# Batches.


def test_score_many_with_two_workers_keeps_order_and_scores() -> None:
    texts = ground_truth_texts()
    texts = texts + texts[:500]  # duplicates as well
    results = list(score_many(texts, workers=2, chunk_size=97))
    assert len(results) == len(texts)
    assert all(isinstance(result, Sentiment) for result in results)
    mismatches = [
        i
        for i, (text, result) in enumerate(zip(texts, results, strict=True))
        if not same(ours(result), stock(text))
    ]
    assert mismatches == []


def test_score_many_from_a_threaded_process_uses_fresh_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Threaded callers must not fork: workers then import the module afresh.
    monkeypatch.setattr(sentiment, "_single_threaded", lambda: False)
    assert sentiment._mp_context().get_start_method() in {"forkserver", "spawn"}
    texts = ground_truth_texts()[:600]
    results = list(score_many(texts, workers=2, chunk_size=50))
    assert all(same(ours(r), stock(t)) for r, t in zip(results, texts, strict=True))


def test_score_many_keeps_the_sign_of_a_zero_compound() -> None:
    # Equal scores except for compound 0.0 versus -0.0 (a tiny negative sum rounded).
    plus, minus = "slap , abhorrent , aas", "pls , alol , abhorrent"
    assert math.copysign(1, stock(plus)[0]) == 1
    assert math.copysign(1, stock(minus)[0]) == -1
    texts = [plus, minus, minus, plus] * 10
    for results in (
        list(score_many(texts, workers=2, chunk_size=3)),
        list(score_many(texts, workers=1)),
    ):
        assert all(same(ours(r), stock(t)) for r, t in zip(results, texts, strict=True))


def test_score_many_in_process_matches_score() -> None:
    texts = ["good", "bad", "", "not bad!!", "good"] * 7
    assert list(score_many(texts, workers=1, chunk_size=3)) == [score(t) for t in texts]
    assert list(score_many(iter(texts), workers=2)) == [score(t) for t in texts]


def test_score_many_streams_an_endless_input() -> None:
    texts = ["good service", "awful delivery", "the table"]
    stream = score_many(itertools.cycle(texts), workers=2, chunk_size=10)
    try:
        head = list(itertools.islice(stream, 95))
    finally:
        stream.close()  # type: ignore[attr-defined]
    assert [r.label for r in head[:3]] == ["positive", "negative", "neutral"]
    assert head == [score(t) for t in itertools.islice(itertools.cycle(texts), 95)]


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"workers": 0}, "workers"), ({"chunk_size": 0}, "chunk_size")]
)
def test_score_many_rejects_bad_arguments(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        score_many(["good"], **kwargs)


# --------------------------------------------------------------------------------------
# Numeric survey scores.


@pytest.mark.parametrize(
    ("scale", "expected"),
    [
        (
            "nps",
            {
                0: "negative",
                6: "negative",
                7: "neutral",
                8: "neutral",
                9: "positive",
                10: "positive",
            },
        ),
        ("csat", {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}),
        ("stars", {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}),
        ("ces", {1: "negative", 3: "negative", 4: "neutral", 5: "positive", 7: "positive"}),
        ("csat2", {0: "negative", 1: "positive"}),
    ],
)
def test_label_for_score_boundaries(scale: str, expected: dict[int, str]) -> None:
    for value, label in expected.items():
        assert label_for_score(value, scale) == label
        assert label_for_score(float(value), scale) == label


@pytest.mark.parametrize(
    ("value", "scale"),
    [
        (-1, "nps"),
        (11, "nps"),
        (0, "csat"),
        (6, "csat"),
        (0, "stars"),
        (6, "stars"),
        (0, "ces"),
        (8, "ces"),
        (2, "csat2"),
        (-1, "csat2"),
        (6.5, "nps"),
        (float("nan"), "nps"),
        (float("inf"), "nps"),
    ],
)
def test_label_for_score_rejects_values_off_the_scale(value: float, scale: str) -> None:
    with pytest.raises(ValueError, match=scale):
        label_for_score(value, scale)


def test_label_for_score_rejects_unknown_scales() -> None:
    with pytest.raises(ValueError, match="likert"):
        label_for_score(3, "likert")
    with pytest.raises(ValueError, match="NPS"):
        label_for_score(3, "NPS")
