"""Bring your own dataset: `datasets init` writes YAML, the layers follow, no Python.

Two datasets the platform has never seen, declared from samples by `datasets init` in the
test: a wide numeric table with a composite key and no text, and a text-plus-label table.
Uploads in CSV, Parquet and JSON Lines go through every layer that applies: for the text
table that is embedded (vectors checked), inference (a model that must beat the
majority class on notes that are not trivially separable), the labeling queue on a real
Label Studio, annotations made through its API and synced into labeled. Contracts evolve;
a quarantined upload is retried after its contract is fixed.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from data_platform.contracts import Contract, load_contracts
from data_platform.contracts.columns import SOURCE_KEY, STAGED_SNAPSHOT_ID
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.ingest.landing import Custody
from data_platform.labeling.simulate import simulate_annotations, staged_truth
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.cli.main import app
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import ingest_landing, materialize
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


MOODS = ("happy", "sad", "angry")
MOOD_SHARES = (0.5, 0.3, 0.2)  # the majority class alone is right half the time
CUES = {
    "happy": ("sunny", "friends", "music", "laughed", "picnic", "wonderful"),
    "sad": ("rain", "alone", "missed", "quiet", "tired", "grey"),
    "angry": ("late", "refund", "refused", "queue", "broken", "shouted"),
}
COMMON = tuple(
    "today the train work called home coffee weekend again day nobody letter after before".split()
)


def notes(rows: int, seed: int) -> pl.DataFrame:
    """Free text with a 3-class label the text hints at, but does not give away.

    Each note is six words every mood uses and three cue words; a cue comes from the note's
    own mood 70% of the time and from any mood otherwise (the vocabularies overlap), and
    10% of the labels are flipped. A linear model reaches about 0.7-0.8 on a hold-out of a
    thousand such notes, the majority class about 0.4-0.5: far from separable, clearly
    learnable (measured over eight seeds).
    """
    rng = np.random.default_rng(seed)
    truth = rng.choice(len(MOODS), rows, p=MOOD_SHARES)
    bodies = []
    for mood in truth:
        cues = [mood if rng.random() < 0.7 else rng.integers(len(MOODS)) for _ in range(3)]
        words = [*rng.choice(COMMON, 6), *(rng.choice(CUES[MOODS[c]]) for c in cues)]
        rng.shuffle(words)
        bodies.append(" ".join(words))
    flipped = (truth + rng.integers(1, len(MOODS), rows)) % len(MOODS)
    label = np.where(rng.random(rows) < 0.1, flipped, truth)
    return pl.DataFrame(
        {
            "note_id": [f"n-{i:05d}" for i in range(rows)],
            "body": bodies,
            "mood": np.array(MOODS)[label],
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


def definitions(settings, folder: Path, labeling=None) -> dg.Definitions:
    return build_definitions(
        SettingsResource.from_settings(settings), labeling, contracts=load_contracts(folder)
    )


@pytest.mark.slow
def test_two_new_datasets_go_through_every_layer_that_applies(
    byod, settings, store, instance, labeling, tmp_path
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
    defs = definitions(settings, byod, labeling)
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
            ("n/a.csv", notes(800, 6)),
            ("n/b.jsonl", notes(200, 7).with_columns(pl.col("note_id").str.replace("n-", "m-"))),
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
        assert lake.count(f"{layer}.notes") == 1000
    staged = pl.from_arrow(lake.read("staged.readings").data)
    assert staged["_record_id"].n_unique() == 110  # derived from the composite key
    assert staged.filter(pl.col("_record_id") == "west|2026-01-01").height == 1

    spec = contracts["notes"]
    check_embedded(defs, instance, lake, spec, {"n/a.csv": 800, "n/b.jsonl": 200})
    check_inference(defs, instance, lake, spec)
    check_labeled(defs, instance, lake, labeling, spec)


def check_embedded(defs, instance, lake: Lakehouse, spec: Contract, partitions: dict) -> None:
    """Every upload's texts embedded: one normalised vector per staged row, checks passed."""
    key = dg.AssetKey(["embedded", spec.name])
    for partition in partitions:
        outcome = materialize(defs, instance, [key], label="embed", partition_key=partition)
        assert outcome.success, outcome.error
        assert outcome.checks == {"embedded/notes": [3, 0, 0]}  # (passed, failed, not measured)
    embedded = pl.from_arrow(lake.read("embedded.notes").data)
    staged = pl.from_arrow(lake.read("staged.notes").data)
    counts = dict(embedded.group_by(SOURCE_KEY).len().iter_rows())
    assert counts == partitions
    assert sorted(embedded["note_id"]) == sorted(staged["note_id"])
    matrix = np.array(embedded["vector"].to_list(), dtype=np.float32)
    assert matrix.shape == (1000, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-3)
    assert np.unique(matrix.round(4), axis=0).shape[0] > 990  # vectors of the texts, not one


def check_inference(defs, instance, lake: Lakehouse, spec: Contract) -> None:
    """The model beats the majority class on the hold-out by a margin; the table agrees."""
    key = dg.AssetKey(["inference", spec.name])
    outcome = materialize(defs, instance, [key], label="predict")
    assert outcome.success, outcome.error
    predictions = pl.from_arrow(lake.read("inference.notes").data)
    assert predictions.height == 1000
    train = predictions.filter(~pl.col("is_holdout"))
    holdout = predictions.filter(pl.col("is_holdout"))
    assert holdout.height > 150  # about 20%: enough that a margin of 0.15 is not luck
    majority = train["mood"].value_counts(sort=True)["mood"][0]
    baseline = (holdout["mood"] == majority).mean()
    accuracy = (holdout["predicted_label"] == holdout["mood"]).mean()
    metadata = instance.get_latest_materialization_event(key).asset_materialization.metadata
    assert metadata["holdout_accuracy"].value == pytest.approx(accuracy, abs=1e-4)
    assert accuracy >= baseline + 0.15, f"accuracy {accuracy:.3f}, majority class {baseline:.3f}"
    assert accuracy < 0.9  # the notes are not trivially separable (10% of labels flipped)


def check_labeled(defs, instance, lake: Lakehouse, labeling, spec: Contract) -> None:
    """Queue on Label Studio, annotate through its API, sync: labeled holds the annotations."""
    queue = defs.resolve_job_def("queue_labels_notes")
    config = {"ops": {"labeling__queue__notes": {"config": {"batch_size": 30}}}}
    assert queue.execute_in_process(instance=instance, run_config=config).success
    queued = instance.get_latest_materialization_event(dg.AssetKey(["labeling", "queue", "notes"]))
    assert queued.asset_materialization.metadata["tasks_created"].value == 30
    assert (
        "lowest model confidence first" in queued.asset_materialization.metadata["priority"].value
    )
    backend = labeling.get_backend()
    tasks = backend.queued(spec)  # record id -> Label Studio task id
    assert len(tasks) == 30

    # the annotator disagrees with the uploaded mood on every third note, so a labeled row
    # can only be right by carrying the annotation (not the staged column)
    truth = staged_truth(lake, spec)
    answers = {
        record: truth[record] if i % 3 else MOODS[(MOODS.index(truth[record]) + 1) % 3]
        for i, record in enumerate(sorted(tasks))
    }
    done = simulate_annotations(backend, spec, answers, annotator="byod-v1", limit=20)
    assert done.labeled == 20
    annotated = sorted(tasks)[:20]  # the annotator takes tasks in record id order

    sensor = defs.resolve_sensor_def("notes_annotations_sensor")
    with dg.build_sensor_context(
        instance=instance, resources={"labeling": labeling}, definitions=defs
    ) as context:
        tick = sensor(context)
    assert isinstance(tick, dg.SensorResult), tick
    [request] = tick.run_requests
    sync = defs.resolve_job_def("sync_labels_notes").execute_in_process(
        instance=instance, tags=request.tags
    )
    assert sync.success
    checks = {e.check_name: e for e in sync.get_asset_check_evaluations()}
    assert checks["labels_in_classes"].passed, checks["labels_in_classes"].description
    rows = {r["note_id"]: r for r in lake.read("labeled.notes").data.to_pylist()}
    assert sorted(rows) == annotated
    assert {r: rows[r]["label"] for r in annotated} == {r: answers[r] for r in annotated}
    assert any(answers[r] != truth[r] for r in annotated)
    assert {r: rows[r]["task_id"] for r in annotated} == {r: tasks[r] for r in annotated}
    assert {r["annotator"] for r in rows.values()} == {"simulated:byod-v1"}
    assert {r[STAGED_SNAPSHOT_ID] for r in rows.values()} == {lake.snapshot_id("staged.notes")}


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
