"""Access by layer (#31), on the real embedded store: the analyst identity is refused every
object that holds uploads or rows as they arrived (landing, archive, quarantine, raw's
table files) and reads staged; `DP_IDENTITY=analyst data-platform sql` refuses the raw
layer with a message that says why, and queries staged."""

from __future__ import annotations

import pyarrow as pa
import pytest
from pyiceberg.exceptions import NoSuchTableError
from typer.testing import CliRunner

from data_platform.lakehouse import Lakehouse, open_catalog
from data_platform.ops.cli.main import app
from data_platform.settings import Settings
from data_platform.storage import AccessDenied, ObjectStore

pytestmark = pytest.mark.integration


def _tables(settings: Settings) -> Lakehouse:
    lake = Lakehouse(open_catalog(settings))
    rows = pa.table({"_source_key": ["u.csv"] * 2, "email": ["ann@example.com", "bob@x.org"]})
    lake.overwrite_partition("raw.people", rows, column="_source_key", value="u.csv")
    hashed = rows.set_column(1, "email", pa.array(["3f2a", "9b1c"]))
    lake.overwrite_partition("staged.people", hashed, column="_source_key", value="u.csv")
    return lake


def test_the_analyst_is_refused_raw_objects_and_reads_staged(
    settings: Settings, store: ObjectStore, analyst_settings: Settings
):
    _tables(settings)
    for prefix in (settings.landing_prefix, settings.archive_prefix, settings.quarantine_prefix):
        store.put_bytes(f"{prefix}people/u.csv", b"email\nann@example.com\n")
    analyst = ObjectStore.from_settings(analyst_settings)
    objects = [o.key for o in store.list("")]
    raw = [k for k in objects if k.startswith("warehouse/raw/")]
    staged = [k for k in objects if k.startswith("warehouse/staged/")]
    held = [k for k in objects if k.startswith(settings.restricted_prefixes[:3])]
    assert raw
    assert staged
    assert len(held) == 3
    for key in [*raw, *held]:
        with pytest.raises(AccessDenied, match="the analyst cannot read landing/"):
            analyst.get_bytes(key)
    for key in staged:
        assert analyst.get_bytes(key) == store.get_bytes(key)
    # the store refuses the rows themselves, whatever reads them (here pyiceberg)
    lake = Lakehouse(open_catalog(analyst_settings))
    assert lake.read("staged.people").data.column("email").to_pylist() == ["3f2a", "9b1c"]
    with pytest.raises((OSError, NoSuchTableError)):
        lake.read("raw.people")


def test_sql_as_the_analyst_refuses_raw_and_queries_staged(
    settings: Settings, analyst_settings: Settings
):
    _tables(settings)
    env = {
        **settings.as_env(),
        "DP_IDENTITY": "analyst",
        "DP_S3_ACCESS_KEY": analyst_settings.access_key,
        "DP_S3_SECRET_KEY": analyst_settings.secret_key,
    }
    refused = CliRunner().invoke(app, ["sql", "select email from raw.people"], env=env)
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())
    assert "refused: raw.people: the analyst identity" in said
    assert "Query staged.people" in said
    staged = CliRunner().invoke(app, ["sql", "select email from staged.people"], env=env)
    assert staged.exit_code == 0, staged.output
    assert "3f2a" in staged.output
    assert "ann@example.com" not in staged.output
    admin = CliRunner().invoke(app, ["sql", "select email from raw.people"], env=settings.as_env())
    assert admin.exit_code == 0
    assert "ann@example.com" in admin.output


def test_an_unknown_identity_is_one_line_and_exit_2(settings: Settings):
    env = {**settings.as_env(), "DP_IDENTITY": "auditor"}
    done = CliRunner().invoke(app, ["sql", "select 1"], env=env)
    assert done.exit_code == 2
    assert done.exception is None or isinstance(done.exception, SystemExit)
    said = " ".join(done.output.split())
    assert "error: no usable store configuration" in said
    assert "Input should be 'admin' or 'analyst'" in said
