"""De-identification by action, against independent computations: the keyed hash is
Python's own HMAC-SHA256 (its first 128 bits), hashed ids of two datasets join, each
generalisation keeps what it says, and a different key gives different hashes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import polars as pl

from data_platform.contracts import parse_contract
from data_platform.privacy.deidentify import REDACTED, deidentify
from data_platform_tests.privacy.test_planted import PATIENTS as PLANTED

KEY = "test-key-not-secret"
# the planted test's patients, and an integer column hashed (it stays an integer)
PATIENTS = parse_contract(
    PLANTED + "  age: {type: integer, pii: other, action: hash}\n", "patients.yaml"
)
VISITS = parse_contract(
    """name: visits
key: [visit_id]
columns:
  visit_id: {type: string}
  patient_id: {type: string, pii: id}
""",
    "visits.yaml",
)


def _hmac(value: str, key: str = KEY) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def test_each_action_against_an_independent_computation():
    frame = pl.DataFrame(
        {
            "patient_id": ["MRN-1", "MRN-2", None],
            "email": ["ann@example.com", "bob@example.org", "cy@example.net"],
            "full_name": ["Ann A", None, "Cy C"],
            "birth_date": [date(1980, 7, 14), date(1975, 1, 2), None],
            "zip": ["98101", "10001", "SW1A 1AA"],
            "age": [41, 52, 63],
        }
    )
    out = deidentify(frame, PATIENTS, KEY)
    assert out["patient_id"].to_list() == [_hmac("MRN-1"), _hmac("MRN-2"), None]
    assert out["email"].to_list() == [_hmac(v) for v in frame["email"]]
    assert out["full_name"].to_list() == [REDACTED, None, REDACTED]
    assert out["birth_date"].to_list() == [date(1980, 1, 1), date(1975, 1, 1), None]
    assert out["zip"].to_list() == ["981", "100", "SW1"]
    # an integer column hashed stays an integer: the HMAC's first 15 hex digits
    assert out["age"].to_list() == [int(_hmac(str(a))[:15], 16) for a in frame["age"]]
    other = deidentify(frame, PATIENTS, "another-key")
    assert not set(other["email"].to_list()) & set(out["email"].to_list())


def test_hashed_ids_of_two_datasets_join():
    patients = deidentify(
        pl.DataFrame({"patient_id": ["MRN-1", "MRN-2", "MRN-3"], "email": ["a@x.org"] * 3}),
        PATIENTS,
        KEY,
    )
    visits = deidentify(
        pl.DataFrame({"visit_id": ["v1", "v2", "v3"], "patient_id": ["MRN-3", "MRN-1", "MRN-9"]}),
        VISITS,
        KEY,
    )
    joined = visits.join(patients, on="patient_id", how="inner")
    assert sorted(joined["visit_id"].to_list()) == ["v1", "v2"]  # MRN-9 has no patient
    assert "MRN" not in "".join(joined["patient_id"].to_list())
