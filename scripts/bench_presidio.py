"""Our free-text patterns against Presidio's pattern recognizers, on a planted set (#31).

Presidio is not a dependency of the platform (its analyzer pulls spaCy, and its NER needs a
spaCy model that no registry here ships): run this in a venv of its own,

    python -m venv /tmp/presidio && /tmp/presidio/bin/pip install presidio-analyzer==2.2.366 polars
    PYTHONPATH=. /tmp/presidio/bin/python scripts/bench_presidio.py

Both scrub the same texts: `--texts` notes, half of them holding planted identifiers in
several formats (e-mail; phones international, national and dotted; cards with spaces,
dashes or none; US SSNs; URLs; IPv4), half plain prose with numbers that are not
identifiers (amounts, dates, counts). Printed: texts per second for each, the recall per
kind (planted values no longer in the output), and the false positives (plain texts
changed). Presidio runs its recognizers one text at a time (no NLP engine: the
recognizers' own `analyze`, as its AnalyzerEngine would call them), and the found spans
are replaced as presidio-anonymizer's `replace` operator does.
"""

from __future__ import annotations

import argparse
import random
import time

import polars as pl

from data_platform.privacy.patterns import scrub_series

KINDS = ("email", "phone", "card", "ssn", "url", "ip")


def planted(count: int, seed: int = 7) -> tuple[list[str], list[dict[str, str]]]:
    """`count` notes and, for each, the identifiers planted in it (kind -> value)."""
    rng = random.Random(seed)
    cards = ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"]
    notes, truth = [], []
    for i in range(count):
        if i % 2:  # prose with numbers that are not identifiers
            order, boxes, kg = rng.randint(10, 999), rng.randint(1, 30), rng.randint(1, 9)
            month, day, paid = rng.randint(1, 12), rng.randint(1, 28), rng.randint(5, 900)
            notes.append(
                f"Order {order} of {boxes} boxes, {kg}.5 kg, due 2026-{month:02d}-{day:02d}; "
                f"paid ${paid}."
            )
            truth.append({})
            continue
        phone = rng.choice(
            [
                f"+1 206-555-{rng.randint(1000, 9999)}",
                f"(206) 555-{rng.randint(1000, 9999)}",
                f"206.555.{rng.randint(1000, 9999)}",
                f"+44 20 7946 {rng.randint(1000, 9999)}",
            ]
        )
        values = {
            "email": f"user.{i}@mail{rng.randint(1, 9)}.example.org",
            "phone": phone,
            "card": rng.choice(cards),
            "ssn": f"{rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
            "url": f"https://portal.example.net/case/{i}?ref=x",
            "ip": f"198.51.100.{rng.randint(1, 254)}",
        }
        notes.append(
            f"Called {values['phone']} about the claim; mail {values['email']}. Card "
            f"{values['card']}, SSN {values['ssn']}. See {values['url']} (from {values['ip']})."
        )
        truth.append(values)
    return notes, truth


def presidio_recognizers() -> list:
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UrlRecognizer,
        UsSsnRecognizer,
    )

    # e-mail and URL validation look domains up with tldextract, which would fetch the public
    # suffix list from the network on first use: its bundled snapshot, offline
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    return [
        EmailRecognizer(),
        PhoneRecognizer(),
        CreditCardRecognizer(),
        UsSsnRecognizer(),
        UrlRecognizer(),
        IpRecognizer(),
    ]


def presidio_scrub(texts: list[str], recognizers: list) -> list[str]:
    out = []
    for text in texts:
        spans = []
        for recognizer in recognizers:
            spans += recognizer.analyze(text, recognizer.supported_entities, None) or []
        # anonymizer's replace: overlapping spans merged, the higher score kept
        spans.sort(key=lambda r: (r.start, -r.score))
        kept, end = [], -1
        for span in spans:
            if span.start >= end:
                kept.append(span)
                end = span.end
        for span in reversed(kept):
            text = f"{text[: span.start]}<{span.entity_type}>{text[span.end :]}"
        out.append(text)
    return out


def recall(outputs: list[str], truth: list[dict[str, str]]) -> dict[str, float]:
    found = {k: [0, 0] for k in KINDS}
    for text, values in zip(outputs, truth, strict=True):
        for kind, value in values.items():
            found[kind][1] += 1
            found[kind][0] += value not in text
    return {k: round(hit / total, 3) for k, (hit, total) in found.items()}


def false_positives(notes: list[str], outputs: list[str], truth: list[dict[str, str]]) -> int:
    return sum(1 for n, o, t in zip(notes, outputs, truth, strict=True) if not t and n != o)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=4_000, help="notes in the planted set")
    args = parser.parse_args()
    notes, truth = planted(args.texts)
    started = time.perf_counter()
    ours = scrub_series(pl.Series(notes)).to_list()
    t_ours = time.perf_counter() - started
    recognizers = presidio_recognizers()
    presidio_scrub(notes[:50], recognizers)  # warm: compiled patterns, loaded suffix list
    started = time.perf_counter()
    theirs = presidio_scrub(notes, recognizers)
    t_theirs = time.perf_counter() - started
    n = len(notes)
    print(f"ours (polars regex, vectorised): {n / t_ours:,.0f} texts/s")
    print(
        f"  recall {recall(ours, truth)}; plain texts changed {false_positives(notes, ours, truth)}"
    )
    print(f"presidio pattern recognizers:    {n / t_theirs:,.0f} texts/s")
    print(
        f"  recall {recall(theirs, truth)}; plain texts changed "
        f"{false_positives(notes, theirs, truth)}"
    )
    print(f"speed: ours {t_theirs / t_ours:.0f}x presidio's on {n:,} texts")


if __name__ == "__main__":
    main()
