"""Contracts: YAML in, clear errors naming file, line and field; inference from samples."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from data_platform.contracts import ContractError, load_contracts, parse_contract
from data_platform.contracts.infer import infer_contract, render_yaml
from data_platform.synthetic import generate_reviews
from data_platform_tests.defs.helpers import DATASETS_DIR

MINIMAL = "name: notes\ncolumns:\n  body: {type: string}\n"


def test_the_sample_contracts_load():
    names = [c.name for c in load_contracts(DATASETS_DIR)]
    assert names[:2] == ["reviews", "tickets"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: notes\ncolumns:\n  body: {type: strng}\n", "x.yaml:3: columns.body.type: Input"),
        (
            "name: notes\ncolumns:\n  n:\n    type: integer\n    min: 5\n    max: 1\n",
            "x.yaml:3: columns.n: min 5.0 is greater",
        ),
        (MINIMAL + "key: [nope]\n", "x.yaml:4: key: key column 'nope' is not a declared column"),
        (MINIMAL + "text: [body, body2]\n", "text column 'body2' is not a declared column"),
        (MINIMAL + "mode: upsert\n", "mode upsert needs a key"),
        (MINIMAL + "mode: merge\n", "x.yaml:4: mode: Input should be 'append' or 'upsert'"),
        (
            "name: notes\ncolumns:\n  body: {type: string, colour: red}\n",
            "x.yaml:3: columns.body.colour: Extra inputs",
        ),
        ("name: Notes!\ncolumns:\n  body: {type: string}\n", "x.yaml:1: name: String should match"),
        ("name: notes\n  columns: [\n", "x.yaml:2: not valid YAML"),
        ("- a\n- b\n", "x.yaml:1: a contract is a mapping"),
        (
            MINIMAL + "label: {column: body, classes: [a]}\n",
            "x.yaml:4: label.classes: Tuple should have at least 2",
        ),
        (
            "name: notes\ncolumns:\n  _x: {type: string}\n",
            "names starting with '_' are the platform's",
        ),
        (
            "name: notes\ncolumns:\n  t: {type: integer, timezone: UTC}\n",
            "timezone applies to datetime",
        ),
    ],
)
def test_a_broken_contract_names_the_file_line_and_field(text, message):
    with pytest.raises(ContractError) as error:
        parse_contract(text, "x.yaml", expected_name="notes")
    assert message in str(error.value)


def test_the_file_name_must_match_the_dataset_name(tmp_path):
    (tmp_path / "other.yaml").write_text(MINIMAL)
    with pytest.raises(ContractError, match=r"other.yaml:1: name: 'notes' differs from the file"):
        load_contracts(tmp_path)


def _csv(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame as `datasets init` sees a CSV sample: every value as text."""
    buffer = io.BytesIO()
    frame.write_csv(buffer)
    return pl.read_csv(buffer.getvalue(), infer_schema=False)


def test_inference_types_nulls_key_text_and_label_from_text():
    proposal = infer_contract(_csv(generate_reviews(2_000, seed=1)), "reviews")
    contract = proposal.contract
    assert {n: c.type for n, c in contract.columns.items()} == {
        "review_id": "string",
        "text": "string",
        "category": "string",
        "rating": "integer",
        "price": "float",
        "helpful_votes": "integer",
        "is_verified": "boolean",
        "created_at": "datetime",
    }
    assert contract.columns["created_at"].timezone == "UTC"
    assert contract.key == ("review_id",)
    assert contract.text == ("text",)
    assert contract.label is not None
    assert contract.label.column == "category"
    assert set(contract.label.classes) == {"books", "electronics", "kitchen", "toys", "sports"}
    assert contract.columns["price"].min == 0
    assert all(proposal.reasons[k] for k in ("key", "mode", "text", "label", "target"))
    # reviews carry their own time (created_at): an event log, appended
    assert contract.mode == "append"
    assert "'created_at'" in proposal.reasons["mode"]
    assert parse_contract(render_yaml(proposal), "reviews.yaml", "reviews") == contract


def test_inference_proposes_upsert_for_keyed_records_without_an_event_time():
    """#29: vega's seattle-weather (a date, measurements) is one row per day: upsert."""
    rows = [
        {"date": f"2012-01-{d:02d}", "temp_max": 10.0 + d, "weather": "rain" if d % 2 else "sun"}
        for d in range(1, 29)
    ]
    proposal = infer_contract(_csv(pl.DataFrame(rows)), "weather")
    assert proposal.contract.key == ("date",)
    assert proposal.contract.mode == "upsert"
    assert "newer state" in proposal.reasons["mode"]
    assert "mode: upsert" in render_yaml(proposal)


def test_inference_finds_a_composite_key_and_no_text():
    rows = [
        {"station": s, "day": f"2026-11-{d:02d}", "temp": 10.5 + d, "rain": None if d % 7 else 1.0}
        for s in ("north", "south", "east")
        for d in range(1, 29)
    ]
    proposal = infer_contract(_csv(pl.DataFrame(rows)), "readings")
    contract = proposal.contract
    assert contract.key == ("station", "day")
    assert contract.columns["day"].type == "date"
    assert contract.columns["rain"].nullable
    assert not contract.columns["temp"].nullable
    assert contract.text == ()
    assert "no free-text column" in proposal.reasons["text"]


def test_inference_with_no_key_mixed_types_naive_times_and_lists():
    start = datetime(2026, 1, 1)
    frame = pl.DataFrame(
        {
            "reading": ["1", "2", "x", "1"],
            "at": [str(start + timedelta(hours=h)) for h in (0, 1, 2, 0)],
            "tags": ['["a","b"]', "[]", '["c"]', '["a","b"]'],
            "value": ["1.5", "2", "", "1.5"],
        }
    )
    contract = infer_contract(frame, "mixed").contract
    assert contract.key == ()  # rows 1 and 4 are identical: nothing is unique
    assert contract.columns["reading"].type == "string"  # one value is not a number
    assert contract.columns["at"].type == "datetime"
    assert contract.columns["at"].timezone is None
    assert contract.columns["tags"].type == "list"
    assert contract.columns["tags"].items == "string"
    assert contract.columns["value"].type == "float"
    assert contract.columns["value"].nullable


def test_inference_proposes_a_utc_datetime_for_rfc_3339_times_written_with_z():
    frame = pl.DataFrame({"at": ["2026-01-01T10:00:00Z", "2026-01-02T11:30:00.250Z"]})
    contract = infer_contract(frame, "events").contract
    assert contract.columns["at"].type == "datetime"
    assert contract.columns["at"].timezone == "UTC"


def test_typed_samples_keep_their_types_and_zones():
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "at": pl.Series(
                [datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
            ).dt.convert_time_zone("Europe/Paris"),
            "scores": [[1.0], [2.0, 3.0], []],
            "flag": [True, False, None],
        }
    )
    contract = infer_contract(frame, "typed").contract
    assert contract.columns["at"].timezone == "Europe/Paris"
    assert contract.columns["scores"].items == "float"
    assert contract.columns["flag"].nullable
    assert contract.key == ("id",)


def test_inference_proposes_a_date_for_iso_datetimes_all_at_midnight():
    """pandas (`date_format="iso"`) and JavaScript write a date as midnight: still a date;
    one other time of day makes the column a datetime."""
    days = ["2012-01-01T00:00:00.000", "2012-01-02T00:00:00Z", "2012-01-03 00:00:00"]
    at = ["2012-01-01T00:00:00", "2012-01-02T00:00:00", "2012-01-03T13:00:00"]
    frame = pl.DataFrame({"day": days, "at": at})
    contract = infer_contract(frame, "days").contract
    assert contract.columns["day"].type == "date"
    assert contract.columns["at"].type == "datetime"
