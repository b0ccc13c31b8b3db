"""Throughput of harken.feedback.sentiment against the stock vaderSentiment analyzer.

    python bench/sentiment_bench.py --rows 200000

Generates deterministic synthetic feedback (20-400 characters; lexicon words,
negations, boosters, "but", capitals and punctuation mixed into neutral filler),
then times, on the same texts:

* the stock ``SentimentIntensityAnalyzer().polarity_scores`` on a sample,
* ``score`` in this process (one core), starting with empty caches,
* ``score_many`` with ``--workers`` processes (default 2),

checks that all three agree exactly, and prints texts per second and the
projected time for 1,000,000 texts.  The target is 1,000,000 texts in 3 minutes.
"""

from __future__ import annotations

import argparse
import random
import time

from vaderSentiment import vaderSentiment as vader

from harken.feedback import sentiment

TARGET_ROWS = 1_000_000
TARGET_SECONDS = 180.0

FILLER = (
    "the a an and or to of for in on at with our your my we you it this that was is were "
    "order delivery service staff team product support call email invoice week day time "
    "store website app parcel driver manager refund price quality size colour package "
    "arrived ordered asked said told received returned waited checked after before again "
    "today yesterday last next first second still also just only then when because if"
).split()
PUNCTUATION = [".", ".", ",", "!", "!!!", "?", "??", " :)", " :(", "..."]


def make_texts(rows: int, seed: int, duplicates: float) -> list[str]:
    """Return ``rows`` reproducible feedback-like texts of 20-400 characters."""
    rng = random.Random(seed)
    lexicon = sorted(w for w in vader.SentimentIntensityAnalyzer().lexicon if w.isalpha())
    boosters = sorted(w for w in vader.BOOSTER_DICT if " " not in w)
    negations = sorted(vader.NEGATE)
    texts: list[str] = []
    for _ in range(rows):
        if texts and rng.random() < duplicates:
            texts.append(rng.choice(texts))
            continue
        length = rng.randint(20, 400)
        words: list[str] = []
        size = 0
        while size < length:
            roll = rng.random()
            if roll < 0.14:
                word = rng.choice(lexicon)
            elif roll < 0.18:
                word = rng.choice(boosters)
            elif roll < 0.21:
                word = rng.choice(negations)
            elif roll < 0.22:
                word = "but"
            else:
                word = rng.choice(FILLER)
            if rng.random() < 0.03:
                word = word.upper()
            elif not words or rng.random() < 0.02:
                word = word.capitalize()
            if rng.random() < 0.06:
                word += rng.choice(PUNCTUATION)
            words.append(word)
            size += len(word) + 1
        text = " ".join(words)[:length].rstrip()
        texts.append(text.ljust(20, "."))
    return texts


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def report(name: str, count: int, seconds: float) -> float:
    per_second = rate(count, seconds)
    projected = TARGET_ROWS / per_second
    verdict = "meets" if projected <= TARGET_SECONDS else "misses"
    print(
        f"{name:<34} {count:>9,} texts {seconds:8.2f} s {per_second:>10,.0f} texts/s"
        f"   1M in {projected:7.1f} s ({verdict} {TARGET_SECONDS:.0f} s)"
    )
    return per_second


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="texts to generate")
    parser.add_argument("--seed", type=int, default=9001, help="random seed")
    parser.add_argument(
        "--stock-sample", type=int, default=20_000, help="texts timed with the stock analyzer"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes for score_many")
    parser.add_argument("--chunk-size", type=int, default=2000, help="texts per worker chunk")
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.0,
        help="fraction of rows that repeat an earlier text (default 0: all distinct)",
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    texts = make_texts(args.rows, args.seed, args.duplicates)
    lengths = [len(t) for t in texts]
    print(
        f"{len(texts):,} texts, {min(lengths)}-{max(lengths)} characters "
        f"(mean {sum(lengths) / len(lengths):.0f}), {len(set(texts)):,} distinct; "
        f"generated in {time.perf_counter() - started:.1f} s"
    )

    sample = texts[: args.stock_sample]
    stock = vader.SentimentIntensityAnalyzer()
    started = time.perf_counter()
    expected = [stock.polarity_scores(text) for text in sample]
    report("stock polarity_scores (1 core)", len(sample), time.perf_counter() - started)

    started = time.perf_counter()
    single = [sentiment.score(text) for text in texts]
    report("score (1 core)", len(texts), time.perf_counter() - started)

    started = time.perf_counter()
    many = list(sentiment.score_many(texts, workers=args.workers, chunk_size=args.chunk_size))
    report(f"score_many ({args.workers} workers)", len(texts), time.perf_counter() - started)

    wrong = sum(
        (e["compound"], e["pos"], e["neu"], e["neg"])
        != (s.compound, s.positive, s.neutral, s.negative)
        for e, s in zip(expected, single, strict=False)
    )
    wrong += sum(a != b for a, b in zip(single, many, strict=True))
    print(f"differences from the stock analyzer: {wrong}")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
