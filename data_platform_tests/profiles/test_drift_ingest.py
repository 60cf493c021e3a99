"""Know your data (#30), end to end on the real store and catalog: every upload profiled
in the ingest pass (`profiles.<name>`, read back row by row), and its drift check against
the uploads before it (or a tag): a same-distribution upload passes; a temperature shifted
by +10, a new category and a tripled null rate each fail naming the column and metric;
`blocking: true` quarantines with the same message; a serving upload may lack the label.
"""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from data_platform.contracts import parse_contract
from data_platform.contracts.columns import SOURCE_KEY
from data_platform.definitions import build_definitions
from data_platform.defs.resources import SettingsResource
from data_platform.ingest.landing import Custody
from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.cli.main import app
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_bytes

pytestmark = pytest.mark.integration

WEATHER = """name: weather
key: [date]
label: {{column: weather, classes: [drizzle, rain, sun, snow, fog]}}
{extra}
columns:
  date: {{type: date}}
  temp_max: {{type: float}}
  wind: {{type: float, nullable: true}}
  weather: {{type: string}}
"""
KINDS = ["drizzle", "rain", "sun", "snow", "fog"]


def contract(extra: str = ""):
    return parse_contract(WEATHER.format(extra=extra), "weather.yaml")


def days(
    first: int, n: int, seed: int, *, shift: float = 0.0, nulls: float = 0.05, kinds=KINDS
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    wind = rng.normal(5.0, 1.0, n)
    missing = rng.random(n) < nulls
    return pl.DataFrame(
        {
            "date": [date(2000, 1, 1) + timedelta(days=first + i) for i in range(n)],
            "temp_max": rng.normal(15.0, 5.0, n) + shift,
            "wind": [None if m else float(w) for w, m in zip(wind, missing, strict=True)],
            "weather": rng.choice(list(kinds), n).tolist(),
        }
    )


def ingest(settings, store, instance, spec, name: str, frame: pl.DataFrame):
    put_bytes(store, settings, "weather", name, encode(frame, name))
    defs = build_definitions(SettingsResource.from_settings(settings), contracts=[spec])
    [outcome] = ingest_landing(defs, instance, [spec])
    return outcome


def drift_check(instance, outcome) -> dg.AssetCheckEvaluation:
    records = instance.get_records_for_run(
        outcome.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    [drift] = [
        e for e in evaluations if e.check_name == "drift" and e.partition == outcome.partition
    ]
    return drift


def reference_uploads(settings, store, instance, spec) -> None:
    for i in range(3):
        assert ingest(
            settings, store, instance, spec, f"ref-{i}.csv", days(i * 400, 400, i)
        ).success


@pytest.mark.parametrize(
    ("name", "frame", "column", "metric"),
    [
        ("warm.csv", days(5000, 400, 10, shift=10.0), "temp_max", "psi"),
        ("hail.csv", days(5000, 400, 11, kinds=[*KINDS, "hail"]), "weather", "new_categories"),
        ("calm.csv", days(5000, 400, 12, nulls=0.15), "wind", "null_rate"),
    ],
)
def test_a_shifted_upload_fails_the_drift_check_naming_column_and_metric(
    settings, store, instance, name, frame, column, metric
):
    spec = contract()
    reference_uploads(settings, store, instance, spec)
    same = ingest(settings, store, instance, spec, "same.csv", days(4000, 400, 9))
    assert same.success
    assert drift_check(instance, same).passed, drift_check(instance, same).description

    shifted = ingest(settings, store, instance, spec, name, frame)
    assert shifted.success  # not blocking: published, the check warns
    check = drift_check(instance, shifted)
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.WARN
    assert f"{column}: {metric}" in (check.description or "")
    assert "the 4 earlier upload(s)" in (check.description or "")
    assert column in check.metadata["drifting_columns"].value
    assert "reference_vs_upload" in check.metadata  # the plot
    # the profile of every published upload is in profiles.weather, one row per column
    lake = Lakehouse(open_catalog(settings))
    rows = pl.from_arrow(lake.read("profiles.weather").data)
    assert isinstance(rows, pl.DataFrame)
    assert rows.group_by(SOURCE_KEY).len().sort(SOURCE_KEY).rows() == [
        (key, 4) for key in sorted([f"ref-{i}.csv" for i in range(3)] + ["same.csv", name])
    ]
    temp = rows.filter((pl.col(SOURCE_KEY) == name) & (pl.col("column") == "temp_max")).row(
        0, named=True
    )
    assert temp["rows"] == 400
    assert temp["mean"] == pytest.approx(frame["temp_max"].mean())
    assert temp["max"] == pytest.approx(frame["temp_max"].max())


def test_blocking_drift_quarantines_the_upload_with_the_same_message(settings, store, instance):
    spec = contract("drift: {blocking: true, columns: {temp_max: {psi: 0.1}}}")
    reference_uploads(settings, store, instance, spec)
    warm = ingest(settings, store, instance, spec, "warm.csv", days(5000, 400, 10, shift=10.0))
    assert not warm.success
    check = drift_check(instance, warm)
    assert not check.passed
    assert check.severity == dg.AssetCheckSeverity.ERROR
    assert "temp_max: psi" in (check.description or "")
    assert "> 0.1" in (check.description or "")
    [entry] = Custody(store, settings).quarantined("weather")
    assert entry.partition == "warm.csv"
    assert "column 'temp_max': drift against the 3 earlier upload(s): psi" in entry.problems()[0]
    assert "temp_max: psi" in (warm.error or "") or "'temp_max'" in (warm.error or "")
    staged = pl.from_arrow(Lakehouse(open_catalog(settings)).read("staged.weather").data)
    assert isinstance(staged, pl.DataFrame)
    assert "warm.csv" not in staged[SOURCE_KEY].to_list()  # nothing of it published
    profiles = pl.from_arrow(Lakehouse(open_catalog(settings)).read("profiles.weather").data)
    assert isinstance(profiles, pl.DataFrame)
    assert "warm.csv" not in profiles[SOURCE_KEY].to_list()


def test_a_serving_upload_may_lack_the_label_only_under_serving(settings, store, instance):
    spec = contract("environments: {serving: {without: [weather]}}")
    reference_uploads(settings, store, instance, spec)
    unlabeled = days(6000, 300, 20).drop("weather")
    training = ingest(settings, store, instance, spec, "batch.csv", unlabeled)
    assert not training.success
    assert "missing column" in (training.error or "")
    assert "'weather'" in (training.error or "")
    serving = ingest(settings, store, instance, spec, "serving/batch.csv", unlabeled)
    assert serving.success, serving.error
    check = drift_check(instance, serving)
    assert check.passed, check.description  # compared with training, the label left out
    assert "the 3 earlier upload(s)" in (check.description or "")
    profiles = pl.from_arrow(Lakehouse(open_catalog(settings)).read("profiles.weather").data)
    assert isinstance(profiles, pl.DataFrame)
    environments = dict(profiles.select(SOURCE_KEY, "environment").unique().iter_rows())
    assert environments["serving/batch.csv"] == "serving"
    assert environments["ref-0.csv"] == "training"


def test_the_drift_command_names_the_shifted_column_and_exits_1(
    settings, store, instance, tmp_path
):
    spec = contract()
    reference_uploads(settings, store, instance, spec)
    ingest(settings, store, instance, spec, "warm.csv", days(5000, 400, 10, shift=10.0))
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "weather.yaml").write_text(WEATHER.format(extra=""))
    env = {**settings.as_env(), "DP_DATASETS_DIR": str(folder)}
    runner = CliRunner()
    shifted = runner.invoke(app, ["drift", "weather", "--upload", "warm.csv"], env=env)
    assert shifted.exit_code == 1, shifted.output
    assert "temp_max" in shifted.output
    assert "DRIFT" in shifted.output
    calm = runner.invoke(app, ["drift", "weather", "--upload", "ref-2.csv"], env=env)
    assert calm.exit_code == 0, calm.output
    # an upload or a tag that does not exist: one line naming it, exit 2, no traceback
    unknown = runner.invoke(app, ["drift", "weather", "--upload", "nope.csv"], env=env)
    assert unknown.exit_code == 2, unknown.output
    assert "no profile of upload 'nope.csv'" in unknown.output
    assert "Traceback" not in unknown.output
    no_tag = runner.invoke(app, ["drift", "weather", "--reference", "release-9"], env=env)
    assert no_tag.exit_code == 2, no_tag.output
    assert "release-9" in no_tag.output
    profile = runner.invoke(app, ["profile", "weather", "--upload", "warm.csv"], env=env)
    assert profile.exit_code == 0, profile.output
    assert "temp_max" in profile.output
