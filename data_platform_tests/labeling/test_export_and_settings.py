"""The training-file export, the labeling settings and the `labeling` CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import polars as pl
import pytest
from typer.testing import CliRunner

from data_platform.contracts.columns import SOURCE_KEY, STAGED_SNAPSHOT_ID
from data_platform.defs.resources.labeling import LabelingResource
from data_platform.labeling.backend import AnnotationRecord
from data_platform.labeling.export import export_training_file
from data_platform.labeling.rows import labeled_frame
from data_platform.ops.cli.labeling import labeling_app
from data_platform.settings import LabelingServerNotRunningError, Settings

pytestmark = pytest.mark.integration
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _write_labeled(lakehouse, spec, ids, label="books"):
    anns = [
        AnnotationRecord(
            i, f"t{i}", f"a{i}", label, "simulated:oracle-v1", AT, AT, "txt", "a.csv", 7
        )
        for i in ids
    ]
    frame = labeled_frame(anns, spec, "label-studio", "1")
    lakehouse.upsert("labeled.reviews", frame.to_arrow(), join_cols=[spec.id_column])


def test_export_split_is_stable_as_labels_grow(lakehouse, reviews, tmp_path):
    _write_labeled(lakehouse, reviews, [f"r-{i:04d}" for i in range(200)])
    first = export_training_file(lakehouse, reviews, tmp_path / "a.parquet")
    _write_labeled(lakehouse, reviews, [f"r-{i:04d}" for i in range(200, 400)])
    _write_labeled(lakehouse, reviews, ["r-9999"], label="furniture")
    second = export_training_file(lakehouse, reviews, tmp_path / "b.parquet")
    a, b = pl.read_parquet(first.path), pl.read_parquet(second.path)
    assert (first.rows, second.rows, second.excluded_rows) == (200, 400, 1)
    assert a.columns == ["review_id", "text", "label", "annotator", "labeled_at"] + [
        SOURCE_KEY, STAGED_SNAPSHOT_ID, "split"
    ]  # fmt: skip
    kept = b.join(a, on="review_id", suffix="_a")
    assert kept.height == 200
    assert (kept["split"] == kept["split_a"]).all()  # no record changed sides
    assert 0.1 < second.validation_rows / second.rows < 0.3
    assert "furniture" not in b["label"].to_list()


def test_cli_export_writes_the_file(settings, lakehouse, reviews, tmp_path, monkeypatch):
    _write_labeled(lakehouse, reviews, [f"r-{i:04d}" for i in range(50)])
    for name, value in {
        "DP_HOME": str(settings.home),
        "DP_S3_ENDPOINT": settings.endpoint,
        "DP_S3_ACCESS_KEY": settings.access_key,
        "DP_S3_SECRET_KEY": settings.secret_key,
        "DP_BUCKET": settings.bucket,
    }.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "train.parquet"
    result = CliRunner().invoke(labeling_app, ["export", "reviews", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "50 labeled rows" in result.output
    assert pl.read_parquet(out).height == 50


def test_no_url_and_no_local_server_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DP_LABELING_URL", raising=False)
    resource = LabelingResource(home=str(tmp_path))
    with pytest.raises(LabelingServerNotRunningError, match="Run `data-platform labeling up`"):
        resource.get_backend()


def test_local_server_is_found_through_its_state_file(label_studio_server, tmp_path, monkeypatch):
    """DP_HOME's state file gives URL and token, as the embedded S3 state does for Settings."""
    monkeypatch.delenv("DP_LABELING_URL", raising=False)
    monkeypatch.setenv("DP_HOME", str(tmp_path))
    local = tmp_path / "label-studio"
    local.mkdir()
    (local / "state.json").write_text(json.dumps(label_studio_server.__dict__))
    backend = LabelingResource().get_backend()
    assert backend.url == label_studio_server.url
    backend.check()  # the token from the state file is accepted
    result = CliRunner().invoke(labeling_app, ["status"])
    assert f"local Label Studio, up at {label_studio_server.url}" in result.output
    assert Settings().label_studio_state_file == local / "state.json"
