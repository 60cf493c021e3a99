"""A training set versioned with DVC: export as of a tag, push, and pull on a fresh clone."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from data_platform.lakehouse import Lakehouse
from data_platform.ops.cli.export import export
from data_platform.settings import Settings
from data_platform.storage import ObjectStore
from data_platform.synthetic import generate_reviews
from data_platform.versioning import DvcError, export_dataset, pull_dataset, read_export_meta

pytestmark = pytest.mark.integration


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


def _git_repo(path: Path) -> Path:
    path.mkdir()
    _git(path, "init", "--quiet")
    _git(path, "config", "user.email", "test@example.com")
    _git(path, "config", "user.name", "test")
    return path


def _checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _env(settings: Settings) -> dict[str, str]:
    return {
        "DP_HOME": str(settings.home),
        "DP_S3_ENDPOINT": settings.endpoint,
        "DP_S3_ACCESS_KEY": settings.access_key,
        "DP_S3_SECRET_KEY": settings.secret_key,
        "DP_BUCKET": settings.bucket,
    }


def _write(lake: Lakehouse, frame: pl.DataFrame, upload: str = "a.csv") -> None:
    rows = frame.with_columns(pl.lit(upload).alias("_source_key"))
    lake.append("transformed.reviews", rows.to_arrow(compat_level=pl.CompatLevel.oldest()))


def test_export_push_then_pull_on_a_fresh_clone_is_byte_identical(
    lakehouse: Lakehouse, settings: Settings, store: ObjectStore, tmp_path: Path
):
    _write(lakehouse, generate_reviews(300, seed=1))
    tagged = lakehouse.tag("release-1")
    _write(lakehouse, generate_reviews(50, seed=2, start_id=300), "b.csv")  # after the tag
    origin = _git_repo(tmp_path / "origin")
    out = origin / "datasets" / "reviews"

    app = typer.Typer()
    app.command()(export)
    args = ["reviews", "--as-of", "release-1", "--out", str(out), "--push"]
    result = CliRunner().invoke(app, args, env=_env(settings))
    assert result.exit_code == 0, result.output

    dvc_file = origin / "datasets" / "reviews.dvc"
    meta = read_export_meta(dvc_file)
    assert meta["snapshot_id"] == tagged["transformed.reviews"]
    assert meta["snapshots"] == {"transformed.reviews": tagged["transformed.reviews"]}
    assert (meta["as_of"], meta["rows"], meta["table"]) == ("release-1", 300, "transformed.reviews")
    # #32: the export names the uploads it holds (the one before the tag, not b.csv)
    assert [(u["key"], u["rows"]) for u in meta["uploads"]] == [("a.csv", 300)]
    exported = pl.from_arrow(pq.read_table(out))
    assert exported.height == 300  # the tagged rows, not the 50 written since
    assert exported["review_id"].to_list() == sorted(exported["review_id"].to_list())
    assert any(store.list("dvc/")), "dvc push stored nothing in the bucket"
    sums = _checksums(out)

    # credentials stay out of git: only .dvc/config.local holds them, and git ignores it
    _git(origin, "add", "-A")
    _git(origin, "commit", "--quiet", "-m", "training set release-1")
    tracked = set(_git(origin, "ls-files").split())
    assert {"datasets/reviews.dvc", "datasets/.gitignore", ".dvc/config"} <= tracked
    assert not {".dvc/config.local", "datasets/reviews/part-00000.parquet"} & tracked
    secret = subprocess.run(["git", "grep", "-F", settings.secret_key, "HEAD"], cwd=origin)
    assert secret.returncode == 1  # found in no committed file
    assert settings.endpoint in (origin / ".dvc" / "config").read_text()

    # the local copy goes away; a fresh clone pulls the same bytes from the bucket
    shutil.rmtree(out)
    shutil.rmtree(origin / ".dvc" / "cache")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "--quiet", str(origin), str(clone))
    assert not (clone / "datasets" / "reviews").exists()
    folder = pull_dataset(settings, clone / "datasets" / "reviews.dvc")
    assert _checksums(folder) == sums
    assert pl.from_arrow(pq.read_table(folder)).equals(exported)


def test_export_refuses_unknown_tags_and_foreign_folders(lakehouse, settings, tmp_path):
    _write(lakehouse, generate_reviews(10))
    repo = _git_repo(tmp_path / "repo")
    with pytest.raises(LookupError, match="no snapshot or tag 'nope'"):
        export_dataset(settings, "reviews", "nope", repo / "data")
    (repo / "mine").mkdir()
    (repo / "mine" / "notes.txt").write_text("keep me")
    lakehouse.tag("v1")
    with pytest.raises(DvcError, match="did not write"):
        export_dataset(settings, "reviews", "v1", repo / "mine")
    assert (repo / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(DvcError, match="not inside a git repository"):
        export_dataset(settings, "reviews", "v1", tmp_path / "no-git" / "data")
