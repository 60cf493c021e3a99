"""`data-platform search`: a ranked table, and clear messages instead of tracebacks."""

from __future__ import annotations

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from data_platform.cli.search import search
from data_platform.settings import Settings
from data_platform.vectors import VectorStore

pytestmark = pytest.mark.integration


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """Invoke the command with the test's store configured the way a user does: DP_* env."""
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
