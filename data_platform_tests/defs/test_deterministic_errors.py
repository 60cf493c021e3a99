"""A deterministic error fails the ingest step once; only a transient one is retried.

Issue #32: a contract changed from integer to float met raw's integer column, and the
run retried the schema error three times (`Exceeded max_retries of 3`) before failing;
nothing about the data or the catalog could change in between. The step's retry policy is
for transient failures (connection errors, 5xx, commit conflicts).
"""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from data_platform.contracts import parse_contract
from data_platform.definitions import build_definitions
from data_platform.defs.ingest import assets as ingest_assets
from data_platform.defs.resources import SettingsResource
from data_platform.ingest.landing import Custody
from data_platform.ops.demo.samples import encode
from data_platform.ops.runner import ingest_landing
from data_platform_tests.defs.helpers import put_bytes
from data_platform_tests.fixtures.dagster import quick_retries

pytestmark = pytest.mark.integration

FLIGHTS = """name: flights
version: {version}
key: [flight_id]
columns:
  flight_id: {{type: integer}}
  distance: {{type: {distance}}}
"""


def _flights(version: int, distance: str):
    return parse_contract(FLIGHTS.format(version=version, distance=distance), "flights.yaml")


def test_a_schema_error_is_not_retried(settings, store, instance, monkeypatch):
    monkeypatch.setattr(ingest_assets, "RETRY", quick_retries(ingest_assets.RETRY))
    platform = SettingsResource.from_settings(settings)
    first = pl.DataFrame({"flight_id": [1, 2], "distance": [100, 200]})
    put_bytes(store, settings, "flights", "a.csv", encode(first, "a.csv"))
    v1 = _flights(1, "integer")
    [ok] = ingest_landing(build_definitions(platform, contracts=[v1]), instance, [v1])
    assert ok.success, ok.error

    v2 = _flights(2, "float")  # the source now sends decimals
    second = pl.DataFrame({"flight_id": [3], "distance": [150.5]})
    put_bytes(store, settings, "flights", "b.csv", encode(second, "b.csv"))
    [failed] = ingest_landing(build_definitions(platform, contracts=[v2]), instance, [v2])
    assert not failed.success
    assert "column 'distance' is int64 in the table" in (failed.error or "")
    assert "max_retries" not in (failed.error or "")
    run = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))[0]
    retried = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    assert retried == []  # failed once, with its message
    # nothing is lost: the upload waits in landing for the contract's fix
    custody = Custody(store, settings)
    assert custody.quarantined("flights") == []
    assert store.exists(custody.landing_key("flights", "b.csv"))
