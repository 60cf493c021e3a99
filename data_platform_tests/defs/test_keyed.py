"""The contract's key is the table's key (#29): the weather example in both modes.

A daily weather table (1,461 days, key `date`) is uploaded twice: a CSV, then a JSON Lines
export of the same days. Before, staged held 2,922 rows, every date twice, and no check
failed. Now: append refuses the second upload naming the first; upsert lets the second's
values win in staged and transformed while raw keeps both versions, `as_of` a time before
the correction reads the old values, and the history joins point-in-time. Rows are read
from the tables.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest
from pyiceberg.exceptions import CommitFailedException
from typer.testing import CliRunner

from data_platform.contracts import parse_contract
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.history import point_in_time_join, read_versions
from data_platform.ingest.landing import Custody
from data_platform.ingest.run import IngestRun, KeysMoved
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.cli.main import app
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import ingest_landing
from data_platform.storage import ObjectStore
from data_platform_tests.defs.helpers import put_bytes

pytestmark = pytest.mark.integration

WEATHER = """name: weather
key: [date]
mode: {mode}
{extra}
columns:
  date: {{type: date}}
  precipitation: {{type: float, min: 0}}
  temp_max: {{type: float}}
  temp_min: {{type: float}}
  wind: {{type: float, min: 0}}
  weather: {{type: string, allowed: [drizzle, rain, sun, snow, fog]}}
"""
DAYS = 1461  # 2012-01-01 .. 2015-12-31, as vega's seattle-weather


@pytest.fixture(params=["rewrite", "delete-files"])
def layout(request, monkeypatch) -> str:
    """How an upsert removes the rows it replaces from earlier uploads' partitions: under
    `upsert_rewrite_below_rows` they are rewritten (the weather's partitions have 1,461
    rows: a threshold above that); at 0 they get position-delete files."""
    below = "1000000" if request.param == "rewrite" else "0"
    monkeypatch.setenv("DP_UPSERT_REWRITE_BELOW_ROWS", below)
    return request.param


def delete_files(settings, table: str) -> int:
    """Position-delete files the current snapshot of `table` applies."""
    loaded = Lakehouse(open_catalog(settings)).load(table)
    assert loaded is not None
    return sum(len(task.delete_files) for task in loaded.scan().plan_files())


def expect_layout(settings, layout: str) -> None:
    for table in ("staged.weather", "transformed.weather"):
        found = delete_files(settings, table)
        assert (found > 0) == (layout == "delete-files"), (table, found)


def contract(mode: str, extra: str = ""):
    return parse_contract(WEATHER.format(mode=mode, extra=extra), "weather.yaml")


def days(shift: float = 0.0) -> pl.DataFrame:
    first = date(2012, 1, 1)
    kinds = ["drizzle", "rain", "sun", "snow", "fog"]
    return pl.DataFrame(
        {
            "date": [first + timedelta(days=i) for i in range(DAYS)],
            "precipitation": [float(i % 7) for i in range(DAYS)],
            "temp_max": [10.0 + (i % 20) + shift for i in range(DAYS)],
            "temp_min": [float(i % 10) for i in range(DAYS)],
            "wind": [1.0 + i % 5 for i in range(DAYS)],
            "weather": [kinds[i % 5] for i in range(DAYS)],
        }
    )


def staged(settings, table: str = "staged.weather") -> pl.DataFrame:
    frame = pl.from_arrow(Lakehouse(open_catalog(settings)).read(table).data)
    assert isinstance(frame, pl.DataFrame)
    return frame


def ingest(settings, store, instance, spec, name: str, frame: pl.DataFrame):
    put_bytes(store, settings, "weather", name, encode(frame, name))
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[spec])
    [outcome] = ingest_landing(defs, instance, [spec])
    return outcome


def test_append_refuses_the_second_upload_naming_the_first(settings, store, instance):
    spec = contract("append")
    first = ingest(settings, store, instance, spec, "2016/csv.csv", days())
    assert first.success, first.error
    second = ingest(settings, store, instance, spec, "2016/export.jsonl", days())
    assert not second.success
    assert "already published by upload '2016/csv.csv'" in (second.error or "")
    rows = staged(settings)
    assert rows.height == DAYS
    assert rows["date"].n_unique() == DAYS
    [entry] = Custody(store, settings).quarantined("weather")
    assert entry.partition == "2016/export.jsonl"
    assert entry.problem_count == DAYS  # every repeated row counted, the first 100 listed
    assert "key (date) already published by upload '2016/csv.csv' (row 1)" in entry.problems()[0]
    raw = staged(settings, "raw.weather")  # raw records what arrived, both uploads
    assert raw.height == 2 * DAYS


def test_append_with_duplicates_allowed_accepts_a_repeated_key(settings, store, instance):
    spec = contract("append", "duplicates: allow")
    assert ingest(settings, store, instance, spec, "a.csv", days()).success
    assert ingest(settings, store, instance, spec, "b.csv", days()).success
    assert staged(settings).height == 2 * DAYS


def test_upsert_the_second_upload_wins_raw_keeps_both_and_as_of_reads_the_old(
    settings, store, instance, layout
):
    spec = contract("upsert")
    assert ingest(settings, store, instance, spec, "2016/csv.csv", days()).success
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    corrected = days(shift=100.0)
    assert ingest(settings, store, instance, spec, "2016/export.jsonl", corrected).success
    expect_layout(settings, layout)
    rows = staged(settings).sort("date")
    assert rows.height == DAYS
    assert rows["temp_max"].to_list() == corrected["temp_max"].to_list()
    assert set(rows[SOURCE_KEY].to_list()) == {"2016/export.jsonl"}
    features = staged(settings, "transformed.weather").sort("date")
    assert features.height == DAYS
    assert features["temp_max"].to_list() == corrected["temp_max"].to_list()
    assert staged(settings, "raw.weather").height == 2 * DAYS  # every version as it arrived
    lake = Lakehouse(open_catalog(settings))
    before = lake.resolve_snapshot("staged.weather", between.isoformat())
    old = pl.from_arrow(lake.read("staged.weather", snapshot_id=before).data)
    assert isinstance(old, pl.DataFrame)
    assert old.sort("date")["temp_max"].to_list() == days()["temp_max"].to_list()
    # the history keeps both versions; a point-in-time join never returns the later one
    versions = read_versions(lake, spec)
    assert versions.height == 2 * DAYS
    events = pl.DataFrame({"date": [date(2012, 1, 1)] * 2, "seen_at": [between, datetime.now(UTC)]})
    joined = point_in_time_join(events, versions, on=["date"], at="seen_at")
    assert joined["temp_max"].to_list() == [10.0, 110.0]
    # the correction run again (from the archive): the same current rows, once each
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[spec])
    job = defs.resolve_job_def("ingest_weather")
    assert job.execute_in_process(partition_key="2016/export.jsonl", instance=instance).success
    for table in ("staged.weather", "transformed.weather"):
        again = staged(settings, table).sort("date")
        assert again.height == DAYS, table
        assert again["temp_max"].to_list() == corrected["temp_max"].to_list(), table


def test_rerunning_an_upload_is_idempotent_in_both_modes(settings, store, instance):
    for mode in ("append", "upsert"):
        spec = contract(mode).model_copy(update={"name": f"weather_{mode}"})
        name = "again.csv"
        put_bytes(store, settings, spec.name, name, encode(days(), name))
        defs = build_definitions(SettingsResource.from_settings(settings), contracts=[spec])
        assert all(o.success for o in ingest_landing(defs, instance, [spec]))
        job = defs.resolve_job_def(f"ingest_{spec.name}")
        again = job.execute_in_process(partition_key=name, instance=instance)  # from the archive
        assert again.success
        rows = staged(settings, f"staged.{spec.name}")
        assert rows.height == DAYS, mode


def test_two_upserts_of_the_same_key_at_once_end_with_the_later_commit(settings, store):
    """Two runs decide against the same staged snapshot; the one that commits second finds
    the table moved and decides again (KeysMoved, the step's retry): one row per key."""
    spec = contract("upsert")
    client = ObjectStore.from_settings(settings)
    lake = Lakehouse(open_catalog(settings))
    first = days().head(10)
    base = IngestRun(spec, ["base.csv"], settings, client, lake, log=lambda _: None)
    put_bytes(store, settings, "weather", "base.csv", encode(first, "base.csv"))
    list(base.from_uploads({"raw", "staged", "transformed"}))  # the tables exist
    for name, shift in (("one.csv", 1.0), ("two.csv", 2.0)):
        frame = first.with_columns(pl.col("temp_max") + shift)
        put_bytes(store, settings, "weather", name, encode(frame, name))

    def run(name: str) -> str:
        for _ in range(5):  # the step's retries
            ingest_run = IngestRun(spec, [name], settings, client, lake, log=lambda _: None)
            try:
                list(ingest_run.from_uploads({"raw", "staged", "transformed"}))
                return name
            except (KeysMoved, CommitFailedException):  # what Dagster's RetryPolicy retries
                continue
        raise AssertionError(f"{name} never committed")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, ["one.csv", "two.csv"]))
    rows = staged(settings)
    assert rows.height == 10  # one row per key
    [winner] = rows[SOURCE_KEY].unique().to_list()  # every key from one upload
    assert winner in {"one.csv", "two.csv"}
    # ... the one whose staged commit came last: just before it, the table had none of its rows
    last = lake.load("staged.weather").current_snapshot()
    assert last is not None
    assert last.parent_snapshot_id is not None
    before = pl.from_arrow(lake.read("staged.weather", snapshot_id=last.parent_snapshot_id).data)
    assert isinstance(before, pl.DataFrame)
    assert winner not in before[SOURCE_KEY].to_list()
    assert before.height == 10


def test_mode_and_delete_marker_are_checked(tmp_path):
    with pytest.raises(ValueError, match="mode upsert needs a key"):
        parse_contract("name: x\nmode: upsert\ncolumns:\n  a: {type: integer}\n", "x.yaml")
    with pytest.raises(ValueError, match="delete_marker needs mode upsert"):
        parse_contract(
            "name: x\nkey: [a]\ndelete_marker: op\ncolumns:\n  a: {type: integer}\n", "x.yaml"
        )
    assert dg is not None


def test_a_delete_row_removes_its_key_from_staged_and_transformed_and_raw_keeps_it(
    settings, store, instance, layout
):
    spec = contract("upsert", "delete_marker: _op")
    assert ingest(settings, store, instance, spec, "2016/csv.csv", days()).success
    gone = [date(2012, 1, 2), date(2013, 6, 1)]
    deletes = "_op,date,precipitation,temp_max,temp_min,wind,weather\n" + "".join(
        f"D,{d.isoformat()},,,,,\n" for d in gone
    )
    changed = days(shift=5.0).slice(10, 3).with_columns(pl.lit("U").alias("_op"))
    body = deletes + changed.select("_op", *days().columns).write_csv(include_header=False)
    put_bytes(store, settings, "weather", "2016/delete.csv", body.encode())
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[spec])
    [done] = ingest_landing(defs, instance, [spec])
    assert done.success, done.error
    expect_layout(settings, layout)
    for table in ("staged.weather", "transformed.weather"):
        rows = staged(settings, table)
        assert rows.height == DAYS - len(gone), table
        assert not set(gone) & set(rows["date"].to_list()), table
        updated = rows.filter(pl.col("date") == date(2012, 1, 11))["temp_max"].item()
        assert updated == 25.0, table  # the update in the same upload won (20.0 before)
    raw = staged(settings, "raw.weather")
    assert raw.filter(pl.col(SOURCE_KEY) == "2016/delete.csv").height == len(gone) + 3
    versions = read_versions(Lakehouse(open_catalog(settings)), spec)
    events = pl.DataFrame({"date": gone, "seen_at": [datetime.now(UTC)] * 2})
    joined = point_in_time_join(events, versions, on=["date"], at="seen_at")
    assert joined["temp_max"].to_list() == [None, None]  # deleted by then


def test_a_mode_change_that_would_drop_rows_is_refused_and_explained(settings, store, instance):
    allowed = contract("append", "duplicates: allow")
    assert ingest(settings, store, instance, allowed, "a.csv", days()).success
    assert ingest(settings, store, instance, allowed, "b.csv", days()).success
    outcome = ingest(settings, store, instance, contract("upsert"), "c.csv", days().head(5))
    assert not outcome.success
    assert "changed mode append to upsert" in (outcome.error or "")
    assert f"holds {DAYS:,} key(s) more than once" in (outcome.error or "")
    assert store.exists(f"{settings.landing_prefix}weather/c.csv")  # nothing lost
    assert staged(settings).height == 2 * DAYS
    defs = build_definitions(
        SettingsResource.from_settings(settings), contracts=[contract("upsert")]
    )
    [again] = ingest_landing(defs, instance, [contract("upsert")])  # the refusal did not
    assert not again.success  # record the new mode: refused again, for the same reason
    assert "changed mode append to upsert" in (again.error or "")


def test_features_join_from_the_command_line(settings, store, instance, tmp_path):
    """`data-platform features join` writes the events with the values as they were, and a
    file that is not Parquet gets one line and exit 1, not a traceback."""
    spec = contract("upsert")
    assert ingest(settings, store, instance, spec, "a.csv", days()).success
    between = datetime.now(UTC)
    assert ingest(settings, store, instance, spec, "b.csv", days(shift=100.0)).success
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "weather.yaml").write_text(WEATHER.format(mode="upsert", extra=""))
    events = tmp_path / "events.parquet"
    pl.DataFrame(
        {"date": [date(2012, 1, 1)] * 2, "seen_at": [between, datetime.now(UTC)]}
    ).write_parquet(events)
    out = tmp_path / "joined.parquet"
    env = {**settings.as_env(), "DP_DATASETS_DIR": str(folder)}
    args = [
        "features",
        "join",
        str(events),
        "--dataset",
        "weather",
        "--on",
        "date",
        "--at",
        "seen_at",
    ]
    done = CliRunner().invoke(app, [*args, "--out", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert "2 event(s)" in done.output
    assert pl.read_parquet(out)["temp_max"].to_list() == [10.0, 110.0]
    events.write_text("date,seen_at\n2012-01-01,2026-01-01\n")  # CSV, not Parquet
    broken = CliRunner().invoke(app, [*args, "--out", str(out)], env=env)
    assert broken.exit_code == 1
    assert "not a readable Parquet file" in " ".join(broken.output.split())  # rich wraps
    assert "Traceback" not in broken.output


def test_a_replay_from_raw_keeps_each_key_current_once(settings, store, instance):
    """Uploads re-decided from raw (after a contract change) take their place in the key's
    history: a correction refused under the old contract and replayed under the new one
    replaces the earlier upload's rows and applies its delete; the earlier upload replayed
    after it brings back neither the replaced rows nor the deleted key."""
    strict = WEATHER.format(mode="upsert", extra="delete_marker: _op").replace(
        "temp_max: {type: float}", "temp_max: {type: float, max: 100}"
    )
    v1 = parse_contract(strict, "weather.yaml")
    v2 = contract("upsert", "delete_marker: _op")
    assert ingest(settings, store, instance, v1, "2016/a.csv", days()).success
    corrected = days(shift=100.0).head(10).with_columns(pl.lit("U").alias("_op"))
    body = corrected.select("_op", *days().columns).write_csv() + "D,2012-01-21,,,,,\n"
    put_bytes(store, settings, "weather", "2016/b.csv", body.encode())
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[v1])
    [refused] = ingest_landing(defs, instance, [v1])
    assert not refused.success  # temp_max over 100 under v1: quarantined, raw keeps it
    assert staged(settings).height == DAYS

    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[v2])
    job = defs.resolve_job_def("ingest_weather")
    layers = [dg.AssetKey(["staged", "weather"]), dg.AssetKey(["transformed", "weather"])]
    expected = (
        days()
        .with_columns(
            pl.when(pl.int_range(pl.len()) < 10)
            .then(pl.col("temp_max") + 100.0)
            .otherwise(pl.col("temp_max"))
        )
        .filter(pl.col("date") != date(2012, 1, 21))
    )
    for replayed in ("2016/b.csv", "2016/a.csv"):
        done = job.execute_in_process(
            partition_key=replayed, instance=instance, asset_selection=layers
        )
        assert done.success, replayed
        for table in ("staged.weather", "transformed.weather"):
            rows = staged(settings, table).sort("date")
            assert rows["date"].to_list() == expected["date"].to_list(), (replayed, table)
            assert rows["temp_max"].to_list() == expected["temp_max"].to_list(), (replayed, table)
        holders = staged(settings).filter(pl.col("date") < date(2012, 1, 11))[SOURCE_KEY]
        assert set(holders.to_list()) == {"2016/b.csv"}, replayed
    # the history holds every version once: a's days, b's corrections and its tombstone
    versions = read_versions(Lakehouse(open_catalog(settings)), v2)
    assert versions.height == DAYS + 10 + 1
