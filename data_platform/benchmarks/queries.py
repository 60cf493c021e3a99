"""Held-out query texts for search benchmarks: texts that are not among the indexed rows.

The review generator composes texts from a few word lists, so 100k rows hold only ~23k
distinct texts, and queries drawn from the same generator are mostly copies of indexed rows
(their nearest neighbour is an exact duplicate: recall 1.0 comes free). A held-out query is a
generated text absent from the index; when the generator's space is used up (very large
tables), two generated sentences are joined into a text of a shape no row has.
"""

from __future__ import annotations

from collections.abc import Collection

from data_platform.synthetic import generate_reviews

_DRAWS = 5  # bounded: each draw is 20x the wanted count


def held_out_texts(indexed: Collection[str], n: int, seed: int = 999) -> list[str]:
    """``n`` distinct review texts, none of them in ``indexed``, deterministic for a seed."""
    seen = set(indexed)
    found: list[str] = []
    for draw in range(_DRAWS):
        for text in generate_reviews(20 * n, seed=seed + draw)["text"].to_list():
            if text not in seen:
                seen.add(text)
                found.append(text)
                if len(found) == n:
                    return found
    pool = generate_reviews(2 * n + 2, seed=seed + _DRAWS)["text"].to_list()
    pairs = (f"{a} Also: {b}" for a, b in zip(pool[::2], pool[1::2], strict=False))
    for text in pairs:
        if text not in seen and len(found) < n:
            seen.add(text)
            found.append(text)
    return found
