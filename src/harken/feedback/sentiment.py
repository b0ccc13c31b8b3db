"""Sentiment scores for feedback text, plus labels for numeric survey scores.

Text scores match vaderSentiment 3.3.2 exactly: ``compound``, ``positive``,
``neutral`` and ``negative`` are bit-for-bit the values that
``SentimentIntensityAnalyzer().polarity_scores(text)`` returns for the same string.
The lexicon, emoji descriptions and rule constants are read from the installed
vaderSentiment package when this module is imported; nothing is copied into Harken.

Why not call the stock analyzer directly?  Its rules are cheap, but the code
lower-cases every word of the text again for each word it scores, rebuilds
lower-cased copies of the word list several times per word, searches lists with
``in`` and re-strips punctuation.  This module applies the same rules in the same
order, with the same floating-point operations, to a per-text array of token
facts (lower case, all-caps, lexicon valence, booster value, negation) that are
computed once per distinct token and cached.  It also memoises whole texts, and
:func:`score_many` spreads large batches over worker processes.

Exactness is kept, not approximated:

* Every arithmetic step that touches a valence is the stock one, in the stock
  order and with the same int/float mixing, so rounding is identical.  The only
  steps left out are additions of zero sentiments to the sums, which cannot
  change a float sum that starts at +0.0.
* Signed zeros are kept: a tiny negative sum rounds to a compound of -0.0, as
  in the stock analyzer.
* The stock "but" rule rewrites the first *equal* value in the list rather than
  the current one; that quirk is reproduced (see :func:`_apply_but`).
* Inputs this rewrite does not model (``str`` subclasses) and any installed
  vaderSentiment other than 3.3.2 are scored by the stock analyzer itself.

The test-suite compares against the stock analyzer on a public ground-truth
data set and on generated text.  This module must not import Django: it runs in
plain worker processes.
"""

from __future__ import annotations

import math
import multiprocessing
import numbers
import os
import re
import string
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from itertools import compress, islice
from operator import itemgetter
from typing import Any, Final

from vaderSentiment import vaderSentiment as _vader

__all__ = [
    "NEGATIVE",
    "NEGATIVE_THRESHOLD",
    "NEUTRAL",
    "POSITIVE",
    "POSITIVE_THRESHOLD",
    "SCALES",
    "Sentiment",
    "label_for_score",
    "score",
    "score_many",
]

NEGATIVE = "negative"
NEUTRAL = "neutral"
POSITIVE = "positive"

#: A compound score at or below this is labelled negative (the usual VADER cut-off).
NEGATIVE_THRESHOLD = -0.05
#: A compound score at or above this is labelled positive (the usual VADER cut-off).
POSITIVE_THRESHOLD = 0.05

#: The vaderSentiment release whose rules this module reproduces.
VADER_VERSION = "3.3.2"

# Distinct texts remembered by score(); each worker process has its own memo.
_TEXT_MEMO_SIZE = 1 << 16
# Distinct raw tokens whose facts are cached; the cache is emptied when it fills.
_TOKEN_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Sentiment:
    """VADER scores for one text.

    ``compound`` is the normalised overall score in [-1, 1], rounded to 4 places;
    ``positive``, ``neutral`` and ``negative`` are the proportions of the text in
    each class, rounded to 3 places.  ``label`` is derived from ``compound`` with
    :data:`NEGATIVE_THRESHOLD` and :data:`POSITIVE_THRESHOLD`.
    """

    compound: float
    positive: float
    neutral: float
    negative: float
    label: str


def _label(compound: float) -> str:
    if compound <= NEGATIVE_THRESHOLD:
        return NEGATIVE
    if compound >= POSITIVE_THRESHOLD:
        return POSITIVE
    return NEUTRAL


# --------------------------------------------------------------------------------------
# Data and constants, taken from the installed package at import time.

_STOCK = _vader.SentimentIntensityAnalyzer()
_LEXICON: dict[str, float] = _STOCK.lexicon
_EMOJIS: dict[str, str] = _STOCK.emojis
_N_SCALAR: float = _vader.N_SCALAR
_C_INCR: float = _vader.C_INCR
_NEGATE = frozenset(_vader.NEGATE)
_BOOSTERS: dict[str, float] = _vader.BOOSTER_DICT
_PUNCTUATION = string.punctuation

try:
    _FAST = metadata.version("vaderSentiment") == VADER_VERSION
except metadata.PackageNotFoundError:  # pragma: no cover - vendored copy without metadata
    _FAST = False

# Tokens never contain whitespace, so "a b" equals a key exactly when the tuple
# ("a", "b") equals the key split on single spaces.  Keys that are one word can
# never match the two- and three-word sequences the rules build.
_SPECIAL_TUPLES: dict[tuple[str, ...], float] = {
    tuple(key.split(" ")): value for key, value in _vader.SPECIAL_CASES.items()
}
_BOOSTER_TUPLES: dict[tuple[str, ...], float] = {
    tuple(key.split(" ")): value for key, value in _BOOSTERS.items()
}
# Every word that occurs in a multi-word idiom or booster.  If none of the words
# around a lexicon word is one of these, the idiom rule cannot change anything.
_IDIOM_WORDS = frozenset(
    word for key in (*_SPECIAL_TUPLES, *_BOOSTER_TUPLES) if len(key) > 1 for word in key
)

# Only single characters are ever looked up by the stock emoji pass.
_EMOJI_CHARS = "".join(sorted(key for key in _EMOJIS if len(key) == 1))
_EMOJI_SEARCH = re.compile("[" + re.escape(_EMOJI_CHARS) + "]").search if _EMOJI_CHARS else None
_EMOJI_ALL_NON_ASCII = all(ord(ch) > 127 for ch in _EMOJI_CHARS)


# --------------------------------------------------------------------------------------
# Token facts.
#
# For a raw whitespace-separated token the stock code strips surrounding
# punctuation (unless that leaves two characters or fewer) and then asks, many
# times over, for its lower-case form and whether that form is in the lexicon,
# is a booster, or is a negation.  These facts depend only on the token, so they
# are computed once and kept in a tuple:

_LOW: Final = 0  # str: stripped token, lower-cased
_UPPER: Final = 1  # bool: stripped token is ALL CAPS (str.isupper)
_VALENCE: Final = 2  # float | None: lexicon valence if the word is scored, else None
_IN_LEXICON: Final = 3  # bool: lower-cased form is a lexicon key
_BOOST: Final = 4  # float | None: booster/dampener value
_NEGATED: Final = 5  # bool: counts as a negation
_IDIOM: Final = 6  # bool: may take part in a multi-word idiom or booster
_SCORED: Final = 7  # bool: _VALENCE is not None

_TokenInfo = tuple[str, bool, float | None, bool, float | None, bool, bool, bool]
_TOKENS: dict[str, _TokenInfo] = {}
_TOKEN_LOOKUP = _TOKENS.__getitem__
_GET_LOW = itemgetter(_LOW)
_GET_SCORED = itemgetter(_SCORED)


def _token_info(raw: str) -> _TokenInfo:
    stripped = raw.strip(_PUNCTUATION)
    word = raw if len(stripped) <= 2 else stripped
    low = word.lower()
    boost = _BOOSTERS.get(low)
    in_lexicon = low in _LEXICON
    # A booster is never scored, even if it were also in the lexicon.
    valence = _LEXICON[low] if in_lexicon and boost is None else None
    # The stock negation test lower-cases the already lower-cased word again.
    low2 = low.lower()
    negated = low2 in _NEGATE or "n't" in low2
    info: _TokenInfo = (
        low,
        word.isupper(),
        valence,
        in_lexicon,
        boost,
        negated,
        low in _IDIOM_WORDS,
        valence is not None,
    )
    if len(_TOKENS) >= _TOKEN_CACHE_LIMIT:
        _TOKENS.clear()
    _TOKENS[raw] = info
    return info


def _replace_emoji(text: str) -> str:
    """Replace emoji characters by their descriptions, spaced as the stock code does."""
    parts: list[str] = []
    prev_space = True
    emojis = _EMOJIS
    for ch in text:
        if ch in emojis:
            if not prev_space:
                parts.append(" ")
            parts.append(emojis[ch])
            prev_space = False
        else:
            parts.append(ch)
            prev_space = ch == " "
    return "".join(parts)


def _has_emoji(text: str) -> bool:
    if _EMOJI_SEARCH is None:
        return False
    if _EMOJI_ALL_NON_ASCII and text.isascii():
        return False
    return _EMOJI_SEARCH(text) is not None


def _apply_but(values: list[float], positions: list[int], but_index: int) -> None:
    """Apply the contrastive "but" rule to the non-zero sentiments, in place.

    The stock loop walks the list and, for each value, rewrites the *first*
    element equal to it (``list.index``), halving it before the first "but" and
    multiplying it by 1.5 after.  Zeros only ever rewrite the first zero into
    another zero (no effect on any score) and can never equal a non-zero value,
    so running the same loop over the non-zero values alone gives the same
    non-zero results.
    """
    for value in values:
        first = values.index(value)
        pos = positions[first]
        if pos < but_index:
            values[first] = value * 0.5
        elif pos > but_index:
            values[first] = value * 1.5


def _fast_scores(text: str) -> tuple[float, float, float, float]:
    """Return ``(compound, pos, neu, neg)`` exactly as vaderSentiment 3.3.2 does."""
    if _has_emoji(text):
        text = _replace_emoji(text)
    raw_tokens = text.split()
    n = len(raw_tokens)
    if not n:
        return 0.0, 0.0, 0.0, 0.0

    try:
        infos = list(map(_TOKEN_LOOKUP, raw_tokens))
    except KeyError:
        get = _TOKENS.get
        infos = [get(raw) or _token_info(raw) for raw in raw_tokens]
    lows = list(map(_GET_LOW, infos))

    n_scalar = _N_SCALAR
    c_incr = _C_INCR
    cap_diff: bool | None = None  # "some but not all words are ALL CAPS", computed lazily
    positions: list[int] = []
    values: list[float] = []

    # Only scored lexicon words get a sentiment; every other word gets zero.
    for i in compress(range(n), map(_GET_SCORED, infos)):
        info = infos[i]
        lex_valence: float = info[_VALENCE]  # type: ignore[assignment]
        low = info[_LOW]
        if low == "kind" and i < n - 1 and lows[i + 1] == "of":
            continue

        valence: float = lex_valence
        if low == "no" and i != n - 1 and infos[i + 1][_IN_LEXICON]:
            valence = 0.0
        if (
            (i > 0 and lows[i - 1] == "no")
            or (i > 1 and lows[i - 2] == "no")
            or (i > 2 and lows[i - 3] == "no" and lows[i - 1] in ("or", "nor"))
        ):
            valence = lex_valence * n_scalar

        if info[_UPPER]:
            if cap_diff is None:
                caps = sum(1 for other in infos if other[_UPPER])
                cap_diff = 0 < caps < n
            if cap_diff:
                if valence > 0:
                    valence += c_incr
                else:
                    valence -= c_incr

        if i > 0:
            p1 = infos[i - 1]
            if not p1[_IN_LEXICON]:
                scalar = 0.0
                boost = p1[_BOOST]
                if boost is not None:
                    scalar = boost
                    if valence < 0:
                        scalar *= -1
                    if p1[_UPPER]:
                        if cap_diff is None:
                            caps = sum(1 for other in infos if other[_UPPER])
                            cap_diff = 0 < caps < n
                        if cap_diff:
                            if valence > 0:
                                scalar += c_incr
                            else:
                                scalar -= c_incr
                valence = valence + scalar
                if p1[_NEGATED]:
                    valence = valence * n_scalar

            if i > 1:
                p2 = infos[i - 2]
                if not p2[_IN_LEXICON]:
                    scalar = 0.0
                    boost = p2[_BOOST]
                    if boost is not None:
                        scalar = boost
                        if valence < 0:
                            scalar *= -1
                        if p2[_UPPER]:
                            if cap_diff is None:
                                caps = sum(1 for other in infos if other[_UPPER])
                                cap_diff = 0 < caps < n
                            if cap_diff:
                                if valence > 0:
                                    scalar += c_incr
                                else:
                                    scalar -= c_incr
                    if scalar != 0:
                        scalar = scalar * 0.95
                    valence = valence + scalar
                    low1 = lows[i - 1]
                    low2 = p2[_LOW]
                    if low2 == "never" and (low1 == "so" or low1 == "this"):
                        valence = valence * 1.25
                    elif low2 == "without" and low1 == "doubt":
                        pass
                    elif p2[_NEGATED]:
                        valence = valence * n_scalar

                if i > 2:
                    p3 = infos[i - 3]
                    if not p3[_IN_LEXICON]:
                        scalar = 0.0
                        boost = p3[_BOOST]
                        if boost is not None:
                            scalar = boost
                            if valence < 0:
                                scalar *= -1
                            if p3[_UPPER]:
                                if cap_diff is None:
                                    caps = sum(1 for other in infos if other[_UPPER])
                                    cap_diff = 0 < caps < n
                                if cap_diff:
                                    if valence > 0:
                                        scalar += c_incr
                                    else:
                                        scalar -= c_incr
                        if scalar != 0:
                            scalar = scalar * 0.9
                        valence = valence + scalar
                        low1 = lows[i - 1]
                        low2 = lows[i - 2]
                        low3 = p3[_LOW]
                        if (low3 == "never" and (low2 == "so" or low2 == "this")) or (
                            low1 == "so" or low1 == "this"
                        ):
                            valence = valence * 1.25
                        elif low3 == "without" and (low2 == "doubt" or low1 == "doubt"):
                            pass
                        elif p3[_NEGATED]:
                            valence = valence * n_scalar
                        if info[_IDIOM] or infos[i - 1][_IDIOM] or p2[_IDIOM]:
                            valence = _idioms(valence, lows, i, n)

            # "least" as a negation ("least" itself is checked against the lexicon).
            if not p1[_IN_LEXICON] and lows[i - 1] == "least":
                if i > 1:
                    if lows[i - 2] != "at" and lows[i - 2] != "very":
                        valence = valence * n_scalar
                else:
                    valence = valence * n_scalar

        if valence != 0:
            positions.append(i)
            values.append(valence)

    if not values:
        # Every sentiment is zero: compound 0, everything neutral.
        return 0.0, 0.0, 1.0, 0.0

    if "but" in lows:
        _apply_but(values, positions, lows.index("but"))

    # Punctuation emphasis, counted on the emoji-expanded text.
    ep_count = text.count("!")
    if ep_count > 4:
        ep_count = 4
    ep_amplifier = ep_count * 0.292
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    amplifier = ep_amplifier + qm_amplifier

    # Adding a zero changes neither a float sum that starts at +0.0 nor its
    # error term, so Python's sum of the non-zero values in order is the stock sum.
    sum_s = float(sum(values))
    if sum_s > 0:
        sum_s += amplifier
    elif sum_s < 0:
        sum_s -= amplifier
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    if compound < -1.0:
        compound = -1.0
    elif compound > 1.0:
        compound = 1.0

    pos_sum = 0.0
    neg_sum = 0.0
    for value in values:
        if value > 0:
            pos_sum += float(value) + 1
        else:
            neg_sum += float(value) - 1
    neu_count = n - len(values)

    if pos_sum > math.fabs(neg_sum):
        pos_sum += amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return (
        round(compound, 4),
        round(math.fabs(pos_sum / total), 3),
        round(math.fabs(neu_count / total), 3),
        round(math.fabs(neg_sum / total), 3),
    )


def _idioms(valence: float, lows: list[str], i: int, n: int) -> float:
    """The stock special-idiom rule for the lexicon word at ``i`` (only when i > 2)."""
    low0 = lows[i]
    low1 = lows[i - 1]
    low2 = lows[i - 2]
    low3 = lows[i - 3]
    special = _SPECIAL_TUPLES
    for seq in ((low1, low0), (low2, low1, low0), (low2, low1), (low3, low2, low1), (low3, low2)):
        if seq in special:
            valence = special[seq]
            break
    if n - 1 > i:
        seq = (low0, lows[i + 1])
        if seq in special:
            valence = special[seq]
    if n - 1 > i + 1:
        seq = (low0, lows[i + 1], lows[i + 2])
        if seq in special:
            valence = special[seq]
    boosters = _BOOSTER_TUPLES
    for seq in ((low3, low2, low1), (low3, low2), (low2, low1)):
        if seq in boosters:
            valence = valence + boosters[seq]
    return valence


def _stock_scores(text: str) -> tuple[float, float, float, float]:
    result = _STOCK.polarity_scores(text)
    return result["compound"], result["pos"], result["neu"], result["neg"]


_compute = _fast_scores if _FAST else _stock_scores

# Memo by exact text: tuples for worker processes, Sentiment objects for score().
_scores = lru_cache(maxsize=_TEXT_MEMO_SIZE)(_compute)


@lru_cache(maxsize=_TEXT_MEMO_SIZE)
def _sentiment(text: str) -> Sentiment:
    compound, pos, neu, neg = _compute(text)
    return Sentiment(compound, pos, neu, neg, _label(compound))


def score(text: str) -> Sentiment:
    """Score one text; the result equals vaderSentiment 3.3.2's ``polarity_scores``.

    Results are memoised by exact text, so repeated texts cost a dictionary look-up.
    """
    if type(text) is str:
        return _sentiment(text)
    if isinstance(text, str):
        # A str subclass may override the methods the fast path relies on.
        compound, pos, neu, neg = _stock_scores(text)
        return Sentiment(compound, pos, neu, neg, _label(compound))
    raise TypeError(f"text must be str, not {type(text).__name__}")


# --------------------------------------------------------------------------------------
# Batches.


def _score_chunk(texts: list[str]) -> list[tuple[float, float, float, float]]:
    """Worker entry point: plain tuples pickle faster than dataclass instances."""
    out = []
    for text in texts:
        if type(text) is str:
            out.append(_scores(text))
        else:
            result = score(text)
            out.append((result.compound, result.positive, result.neutral, result.negative))
    return out


def _available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _single_threaded() -> bool:
    try:  # counts threads started by C libraries as well
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # pragma: no cover - no /proc
        return threading.active_count() == 1


def _mp_context() -> Any:
    """Fork when that is safe (one thread), else forkserver, else spawn.

    Forked workers start at once with the lexicon and caches already loaded, and
    the caller's main module is not imported again.  Forking a process with
    other threads can deadlock the child, so threaded callers (web servers) get
    forkserver or spawn, whose children import this module afresh; their main
    module must then be safe to import (the usual ``if __name__ == "__main__"``).
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _single_threaded():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def score_many(
    texts: Iterable[str], *, workers: int | None = None, chunk_size: int = 2000
) -> Iterator[Sentiment]:
    """Score many texts, yielding one :class:`Sentiment` per text, in input order.

    ``workers`` processes (default: the CPUs this process may use) score chunks of
    ``chunk_size`` texts.  The input is read lazily and at most ``2 * workers``
    chunks are in flight, so a caller iterating over millions of texts holds only
    a few chunks of texts and results in memory.  With one worker, or when all
    texts fit into a single chunk, everything runs in this process.
    """
    if workers is None:
        workers = _available_cpus()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    return _score_stream(iter(texts), workers, chunk_size)


def _score_stream(texts: Iterator[str], workers: int, chunk_size: int) -> Iterator[Sentiment]:
    first = list(islice(texts, chunk_size))
    # Daemonic processes (such as pool workers) may not start processes of their own.
    if workers == 1 or len(first) < chunk_size or multiprocessing.current_process().daemon:
        yield from map(score, first)
        yield from map(score, texts)
        return

    made: dict[tuple[float, float, float, float], Sentiment] = {}
    with _mp_context().Pool(workers) as pool:
        pending: deque[Any] = deque()
        chunk = first
        while chunk or pending:
            while chunk and len(pending) < 2 * workers:
                pending.append(pool.apply_async(_score_chunk, (chunk,)))
                chunk = list(islice(texts, chunk_size))
            for row in pending.popleft().get():
                # Equal scores share one immutable instance: building a frozen
                # dataclass costs more than this look-up.  A compound of -0.0 is
                # equal to 0.0 as a key, so it is never shared, to keep its sign.
                result = made.get(row)
                if result is None or (row[0] == 0 and math.copysign(1.0, row[0]) < 0):
                    compound, pos, neu, neg = row
                    result = Sentiment(compound, pos, neu, neg, _label(compound))
                    if math.copysign(1.0, compound) > 0:
                        if len(made) >= _TEXT_MEMO_SIZE:
                            made.clear()
                        made[row] = result
                yield result


# --------------------------------------------------------------------------------------
# Numeric survey scores.

#: Scale name -> (lowest, highest, highest negative, highest neutral).
SCALES: dict[str, tuple[int, int, int, int]] = {
    "nps": (0, 10, 6, 8),
    "csat": (1, 5, 2, 3),
    "ces": (1, 7, 3, 4),  # higher means easier
    "stars": (1, 5, 2, 3),
    "csat2": (0, 1, 0, 0),  # no neutral value
}


def label_for_score(value: float, scale: str) -> str:
    """Return "negative", "neutral" or "positive" for a survey score on ``scale``.

    Scales: ``nps`` 0-10 (0-6 negative, 7-8 neutral, 9-10 positive); ``csat`` and
    ``stars`` 1-5 (1-2, 3, 4-5); ``ces`` 1-7, higher meaning easier (1-3, 4, 5-7);
    ``csat2`` 0/1 (0 negative, 1 positive).  Scores must be whole numbers within
    the scale; anything else, or an unknown scale, raises ``ValueError``.
    """
    bounds = SCALES.get(scale)
    if bounds is None:
        known = ", ".join(sorted(SCALES))
        raise ValueError(f"unknown score scale {scale!r}; expected one of {known}")
    lowest, highest, negative_max, neutral_max = bounds
    if not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"score {value!r} is not a number on the {scale} scale")
    if value != int(value) or not lowest <= value <= highest:
        raise ValueError(
            f"score {value!r} is not a whole number from {lowest} to {highest} on the {scale} scale"
        )
    if value <= negative_max:
        return NEGATIVE
    if value <= neutral_max:
        return NEUTRAL
    return POSITIVE
