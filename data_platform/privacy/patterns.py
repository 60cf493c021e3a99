"""Identifiers inside text, as patterns: what `scrub` replaces and `datasets init` looks for.

A focused set of our own (e-mail addresses, phone numbers, card numbers, US social security
numbers, URLs, IPv4 addresses), run as polars' vectorised regex replacements: no model, so
nothing is downloaded (spaCy's NER models are not on the package registry); Presidio's
pattern recognizers cover the same ground one value at a time (docs/privacy.md has the
measured recall and speed of both on the planted set).
"""

from __future__ import annotations

import polars as pl

# (placeholder, pattern): applied in this order (a URL before the e-mail inside it, cards
# before phone numbers, whose digits they would otherwise match)
PATTERNS: tuple[tuple[str, str], ...] = (
    ("<URL>", r"(?i)\b(?:https?://|www\.)[^\s<>\"']+"),
    ("<EMAIL>", r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b"),
    ("<CARD>", r"\b(?:\d[ -]?){12,18}\d\b"),
    ("<SSN>", r"\b\d{3}-\d{2}-\d{4}\b"),
    ("<IP>", r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"),
    ("<PHONE>", r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\b\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}\b"),
)


# what a text must hold for any pattern to match: a digit, an @, or a web address's start
MAY_HOLD = r"[0-9@]|(?i:www\.|https?:)"


def scrub(text: pl.Expr) -> pl.Expr:
    """`text` with every identifier the patterns find replaced by its placeholder."""
    for placeholder, pattern in PATTERNS:
        text = text.str.replace_all(pattern, placeholder)
    return text


def scrub_series(texts: pl.Series) -> pl.Series:
    """`scrub` over the texts that may hold an identifier only (one cheap test of every
    text, then the six patterns over those), the others as they are."""
    candidates = texts.str.contains(MAY_HOLD).fill_null(False)
    if not candidates.any():
        return texts
    where = candidates.arg_true()
    scrubbed = texts.gather(where).to_frame("t").select(scrub(pl.col("t"))).to_series()
    return (
        texts.scatter(where, scrubbed) if where.len() < texts.len() else scrubbed.alias(texts.name)
    )


def luhn(digits: str) -> bool:
    """Whether a card number's digits pass the Luhn check (what `datasets init` asks of a
    column of card-like values before it calls them card numbers)."""
    numbers = [int(d) for d in digits if d.isdigit()]
    if not 13 <= len(numbers) <= 19:
        return False
    total = 0
    for i, n in enumerate(reversed(numbers)):
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0
