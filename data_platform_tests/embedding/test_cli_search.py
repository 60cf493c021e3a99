"""`data-platform search`: a ranked table, and clear messages instead of tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from data_platform.embedding import VectorStore
from data_platform.ops.cli.search import search
from data_platform.settings import Settings

pytestmark = pytest.mark.integration
DATASETS_DIR = Path(__file__).resolve().parents[2] / "datasets"  # reviews, tickets: both text
READINGS = """\
name: readings
version: 1
key: [station, day]
columns:
  station: {type: string}
  day: {type: string}
  level: {type: float}
"""


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Invoke the command with the test's store configured the way a user does: DP_* env.

    Declared: `reviews` (text) and `readings` (no text), so `reviews` is the one to search.
    """
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    shutil.copy(DATASETS_DIR / "reviews.yaml", datasets / "reviews.yaml")
    (datasets / "readings.yaml").write_text(READINGS)
    monkeypatch.setenv("DP_DATASETS_DIR", str(datasets))
    monkeypatch.setenv("DP_HOME", str(settings.home))
    monkeypatch.setenv("DP_S3_ENDPOINT", settings.endpoint)
    monkeypatch.setenv("DP_S3_ACCESS_KEY", settings.access_key)
    monkeypatch.setenv("DP_S3_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("DP_BUCKET", settings.bucket)
    app = typer.Typer()
    app.command()(search)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_prints_a_ranked_table(run, settings: Settings, embedded_reviews: pl.DataFrame) -> None:
    VectorStore.from_settings(settings).upsert("reviews", embedded_reviews, "review_id")
    result = run("kettle", "--dataset", "reviews", "--k", "3", "--where", "category = 'kitchen'")
    assert result.exit_code == 0, result.output
    assert "top 3 for 'kettle'" in result.output
    assert "review_id" in result.output
    assert "score" in result.output
    assert result.output.count("kitchen") >= 3
    assert "r-0000" in result.output


def test_missing_dataset_says_so(run) -> None:
    result = run("anything", "--dataset", "tickets")
    assert result.exit_code == 1
    assert "No vectors for dataset 'tickets'" in result.output
    assert "Traceback" not in result.output


def test_empty_dataset_says_so(run, settings: Settings, embedded_reviews: pl.DataFrame) -> None:
    store = VectorStore.from_settings(settings)
    store.replace_partition("reviews", "p", embedded_reviews.head(2), id_column="review_id")
    store.replace_partition("reviews", "p", embedded_reviews.head(0))
    result = run("anything")
    assert result.exit_code == 0
    assert "has no vectors yet" in result.output


def test_bad_where_is_an_error_not_a_traceback(
    run, settings: Settings, embedded_reviews: pl.DataFrame
) -> None:
    VectorStore.from_settings(settings).upsert("reviews", embedded_reviews.head(5), "review_id")
    result = run("anything", "--where", "colour = 'red'")
    assert result.exit_code == 2
    assert "invalid filter \"colour = 'red'\"" in result.output
    assert "No field named colour" in result.output
    assert "Traceback" not in result.output
    no_match = run("anything", "--where", "category = 'garden'")
    assert no_match.exit_code == 0
    assert "No rows of 'reviews' match" in no_match.output


def test_local_path_option(run, tmp_path, embedded_reviews: pl.DataFrame) -> None:
    folder = tmp_path / "lance"
    VectorStore(str(folder)).upsert("reviews", embedded_reviews.head(20), "review_id")
    result = run("toy", "--local-path", str(folder), "--k", "2")
    assert result.exit_code == 0, result.output
    assert "top 2 for 'toy'" in result.output


def test_the_only_dataset_with_text_is_searched_by_default(
    run, monkeypatch: pytest.MonkeyPatch, tmp_path, settings: Settings, embedded_reviews
) -> None:
    """Not a sample's name: the one declared dataset with text (here `tickets`)."""
    declared = tmp_path / "declared"
    declared.mkdir()
    shutil.copy(DATASETS_DIR / "tickets.yaml", declared / "tickets.yaml")
    (declared / "readings.yaml").write_text(READINGS)
    monkeypatch.setenv("DP_DATASETS_DIR", str(declared))
    # the vector table does not check its rows against the contract: reviews stand in
    VectorStore.from_settings(settings).upsert("tickets", embedded_reviews.head(20), "review_id")
    result = run("kettle", "--k", "2")
    assert result.exit_code == 0, result.output
    assert "tickets: top 2 for 'kettle'" in result.output


def test_a_dataset_is_needed_when_several_have_text(
    run, monkeypatch: pytest.MonkeyPatch, settings: Settings, embedded_reviews: pl.DataFrame
) -> None:
    VectorStore.from_settings(settings).upsert("reviews", embedded_reviews.head(20), "review_id")
    monkeypatch.setenv("DP_DATASETS_DIR", str(DATASETS_DIR))
    result = run("kettle")
    assert result.exit_code == 1, result.output
    assert "several datasets have text to search: reviews, tickets" in result.output
    assert "--dataset" in result.output
    assert "Traceback" not in result.output
    chosen = run("kettle", "--dataset", "reviews", "--k", "1")
    assert chosen.exit_code == 0, chosen.output
    assert "reviews: top 1 for 'kettle'" in chosen.output


def test_no_dataset_with_text_says_so(run, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    only_numbers = tmp_path / "numbers"
    only_numbers.mkdir()
    (only_numbers / "readings.yaml").write_text(READINGS)
    monkeypatch.setenv("DP_DATASETS_DIR", str(only_numbers))
    result = run("kettle")
    assert result.exit_code == 1
    assert "declares text columns: nothing to search" in result.output
