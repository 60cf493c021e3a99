"""Bring your own dataset: `datasets init` writes YAML, the layers follow, no Python.

Two datasets the platform has never seen, declared from samples by `datasets init` in the
test: a wide numeric table with a composite key and no text, and a text-plus-label table.
Uploads in CSV, Parquet and JSON Lines go through every layer that applies; contracts
evolve; a quarantined upload is retried after its contract is fixed.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from data_platform.cli.main import app
from data_platform.contracts import load_contracts
from data_platform.definitions import build_definitions
from data_platform.demo.samples import encode
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.landing import Custody
from data_platform.resources import PlatformSettings
from data_platform.runner import ingest_landing
from data_platform_tests.defs.helpers import put_bytes

pytestmark = pytest.mark.integration
runner = CliRunner()


def readings(stations: tuple[str, ...], days: int, seed: int) -> pl.DataFrame:
    """Wide numeric rows keyed by (station, day): no single column identifies a row."""
    rng = np.random.default_rng(seed)
    rows = len(stations) * days
    frame = pl.DataFrame(
        {
            "station": [s for s in stations for _ in range(days)],
            "day": [
                f"2026-{1 + d // 28:02d}-{1 + d % 28:02d}" for _ in stations for d in range(days)
            ],
        }
    )
    sensors = {f"sensor_{i}": np.round(rng.normal(20, 5, rows), 2) for i in range(8)}
    return frame.with_columns(**{k: pl.Series(v) for k, v in sensors.items()})


def notes(rows: int, seed: int) -> pl.DataFrame:
    """Free text with a 3-class label the text gives away."""
    rng = np.random.default_rng(seed)
    moods = np.array(["happy", "sad", "angry"])
    words = {
        "happy": "what a wonderful sunny day with friends and music",
        "sad": "the rain fell all day and nobody called me back",
        "angry": "the train was late again and the refund was refused",
    }
    label = moods[rng.integers(0, 3, rows)]
    return pl.DataFrame(
        {
            "note_id": [f"n-{i:05d}" for i in range(rows)],
            "body": [f"{words[m]} entry {i}" for i, m in enumerate(label)],
            "mood": label,
            "written_at": [f"2026-11-{1 + i % 28:02d}T10:00:00+01:00" for i in range(rows)],
        }
    )


@pytest.fixture
def byod(settings, tmp_path, monkeypatch):
    """DP_* pointing at the test's bucket and an empty datasets folder of its own."""
    folder = tmp_path / "datasets"
    monkeypatch.setenv("DP_DATASETS_DIR", str(folder))
    monkeypatch.setenv("DP_S3_ENDPOINT", settings.endpoint)
    monkeypatch.setenv("DP_S3_ACCESS_KEY", settings.access_key)
    monkeypatch.setenv("DP_S3_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("DP_BUCKET", settings.bucket)
    monkeypatch.setenv("DP_HOME", str(settings.home))
    return folder


def init(folder: Path, name: str, sample: Path) -> str:
    done = runner.invoke(app, ["datasets", "init", name, "--from", str(sample)])
    assert done.exit_code == 0, done.output
    assert (folder / f"{name}.yaml").exists()
    return done.output


def definitions(settings, folder: Path) -> dg.Definitions:
    return build_definitions(
        PlatformSettings.from_settings(settings), contracts=load_contracts(folder)
    )


def test_two_new_datasets_go_through_every_layer_that_applies(
    byod, settings, store, instance, tmp_path
):
    readings_csv, notes_csv = tmp_path / "readings.csv", tmp_path / "notes.csv"
    readings(("north", "south", "east"), 40, 1).write_csv(readings_csv)
    notes(300, 2).write_csv(notes_csv)
    said = init(byod, "readings", readings_csv)
    assert "(station, day) together are" in said
    said = init(byod, "notes", notes_csv)
    assert "'mood' has 3 distinct values" in said
    assert "layers  raw, staged, transformed, embedded, inference, labeled" in said

    contracts = {c.name: c for c in load_contracts(byod)}
    assert contracts["readings"].key == ("station", "day")
    assert contracts["readings"].text == ()
    defs = definitions(settings, byod)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/readings", "staged/readings", "transformed/readings"} <= keys
    assert "embedded/readings" not in keys
    assert "labeling/queue/readings" not in keys
    assert {"embedded/notes", "inference/notes", "labeling/queue/notes", "labeled/notes"} <= keys

    uploads = {
        "readings": [
            ("2026/a.csv", readings(("north", "south"), 30, 3)),
            ("2026/b.parquet", readings(("west",), 30, 4)),
            ("2026/c.jsonl", readings(("hill",), 20, 5)),
        ],
        "notes": [
            ("n/a.csv", notes(120, 6)),
            ("n/b.jsonl", notes(80, 7).with_columns(pl.col("note_id").str.replace("n-", "m-"))),
        ],
    }
    for dataset, files in uploads.items():
        for name, frame in files:
            put_bytes(store, settings, dataset, name, encode(frame, name))
    outcomes = ingest_landing(defs, instance, list(contracts.values()))
    assert all(o.success for o in outcomes), [o.error for o in outcomes if not o.success]
    lake = Lakehouse(open_catalog(settings))
    for layer in ("raw", "staged", "transformed"):
        assert lake.count(f"{layer}.readings") == 60 + 30 + 20
        assert lake.count(f"{layer}.notes") == 200
    staged = pl.from_arrow(lake.read("staged.readings").data)
    assert staged["_record_id"].n_unique() == 110  # derived from the composite key
    assert staged.filter(pl.col("_record_id") == "west|2026-01-01").height == 1

    predicted = dg.AssetKey(["inference", "notes"])
    result = defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, asset_selection=[predicted]
    )
    assert result.success
    event = instance.get_latest_materialization_event(predicted)
    assert event.asset_materialization.metadata["holdout_accuracy"].value > 0.9
    assert lake.count("inference.notes") == 200


def test_contract_evolution_and_quarantine_retry(byod, settings, store, instance, tmp_path):
    sample = tmp_path / "readings.csv"
    readings(("north",), 10, 1).write_csv(sample)
    init(byod, "readings", sample)
    defs = definitions(settings, byod)
    contracts = load_contracts(byod)
    with_humidity = readings(("south",), 10, 2).with_columns(humidity=pl.lit(55.0))
    put_bytes(store, settings, "readings", "new.csv", encode(with_humidity, "new.csv"))
    [refused] = ingest_landing(defs, instance, contracts)
    assert not refused.success
    assert "column 'humidity': unexpected column" in refused.error
    custody = Custody(store, settings)
    [entry] = custody.quarantined("readings")

    path = byod / "readings.yaml"
    text = path.read_text().replace("version: 1", "version: 2")
    path.write_text(text + '  "humidity": {type: "float", nullable: true}\n')
    done = runner.invoke(app, ["quarantine", "retry", entry.key])
    assert done.exit_code == 0, done.output
    assert custody.quarantined("readings") == []
    defs, contracts = definitions(settings, byod), load_contracts(byod)
    [retried] = ingest_landing(defs, instance, contracts)
    assert retried.success, retried.error
    lake = Lakehouse(open_catalog(settings))
    staged = pl.from_arrow(lake.read("staged.readings").data)
    assert staged["humidity"].to_list() == [55.0] * 10
    table = lake.load("staged.readings")
    assert table.properties["data-platform.contract.version"] == "2"
    assert custody.store.get_bytes(f"{settings.archive_prefix}readings/new.csv") == encode(
        with_humidity, "new.csv"
    )  # the original bytes, never changed

    shown = runner.invoke(app, ["datasets", "show", "readings"])
    assert shown.exit_code == 0, shown.output
    assert "staged.readings" in shown.output
    listed = runner.invoke(app, ["datasets", "list"])
    assert "readings" in listed.output
    assert "10/10/10" in listed.output


@pytest.mark.parametrize("name", ["notes.csv", "notes.parquet", "notes.jsonl", "notes.csv.gz"])
def test_init_reads_every_format_local_or_in_the_bucket(byod, settings, store, tmp_path, name):
    import gzip

    frame = notes(60, 9)
    data = encode(frame, name.removesuffix(".gz"))
    data = gzip.compress(data) if name.endswith(".gz") else data
    (tmp_path / name).write_bytes(data)
    said = init(byod, "notes", tmp_path / name)
    assert "written_at" in said
    [contract] = load_contracts(byod)
    assert contract.columns["written_at"].type == "datetime"
    assert contract.columns["written_at"].timezone == "UTC"  # offsets: kept as instants
    assert contract.key == ("note_id",)
    assert contract.text == ("body",)
    store.put_bytes(f"samples/{name}", data)
    (byod / "notes.yaml").unlink()
    init(byod, "notes", Path(f"samples/{name}"))  # a key in the lake's bucket
    from_bucket = load_contracts(byod)[0]
    assert from_bucket.columns == contract.columns  # the same inference, wherever the file is
    assert (from_bucket.key, from_bucket.text, from_bucket.label) == (
        contract.key,
        contract.text,
        contract.label,
    )


def test_init_refuses_an_unreadable_sample_clearly(byod, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    done = runner.invoke(app, ["datasets", "init", "bad", "--from", str(bad)])
    assert done.exit_code == 1
    assert "it looks like a PNG image" in done.output
    assert not (byod / "bad.yaml").exists()
