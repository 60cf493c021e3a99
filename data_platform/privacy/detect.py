"""Which columns of a sample are likely personal, and why (`datasets init` says so).

By the column's name (email, phone, name, birth date, zip, ip, address, ssn, patient id)
and by its values: a sample of up to 1,000 of them matched against the identifier
patterns (card numbers must also pass the Luhn check). The person confirms by adding
`pii:` to the column in the YAML; nothing is de-identified on a guess.
"""

from __future__ import annotations

import re

import polars as pl

from data_platform.privacy.patterns import PATTERNS, luhn

SAMPLE = 1000
SHARE = 0.8  # of a sample's values matching, for a column of identifiers
TEXT_SHARE = 0.1  # of free texts holding one, for a column of text with identifiers inside

NAMES: tuple[tuple[str, str], ...] = (
    ("email", r"e_?mail"),
    ("phone", r"phone|mobile|cell|fax|tel"),
    ("date_of_birth", r"birth|dob|born"),
    ("postal_code", r"zip|postcode|postal"),
    ("ip", r"(^|_)ip(_|$)|ip_?addr"),
    ("address", r"address|street|city"),
    ("id", r"ssn|social_security|passport|licen[cs]e|patient_?id|mrn|national_id"),
    ("name", r"(^|_)(first_|last_|full_|sur|given_|family_|)name$"),
)
WHOLE = {  # a value that is entirely one identifier
    "email": PATTERNS[1][1],
    "ip": PATTERNS[4][1],
    "phone": PATTERNS[5][1],
}


def likely_personal(name: str, values: pl.Series, is_text: bool) -> tuple[str, str] | None:
    """(pii kind, why) for a column that looks personal, else None."""
    if values.dtype == pl.String:
        sample = values.drop_nulls().head(SAMPLE)
        if sample.len():
            found = _by_values(sample, is_text)
            if found is not None:
                return found
    lowered = name.lower()
    for kind, pattern in NAMES:
        if re.search(pattern, lowered):
            return kind, f"its name {name!r} reads like {kind.replace('_', ' ')}"
    return None


def _by_values(sample: pl.Series, is_text: bool) -> tuple[str, str] | None:
    count = sample.len()
    for kind, pattern in WHOLE.items():
        whole = int(sample.str.contains(rf"^\s*(?:{pattern})\s*$").sum())
        if whole >= SHARE * count:
            return kind, f"{whole} of {count} sampled values look like {kind} values"
    cards = [v for v in sample.to_list() if re.fullmatch(r"[\d -]{13,23}", v) and luhn(v)]
    if len(cards) >= SHARE * count:
        return "id", f"{len(cards)} of {count} sampled values are card numbers (Luhn)"
    if is_text:
        inside = sample.str.contains("|".join(f"(?:{p})" for _, p in PATTERNS))
        hits = int(inside.sum())
        if hits >= TEXT_SHARE * count:
            return "free_text", (
                f"{hits} of {count} sampled texts hold an e-mail, phone, card, SSN, URL or IP"
            )
    return None
