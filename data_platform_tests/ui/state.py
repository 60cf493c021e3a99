"""What the platform's instance says, through the webserver's GraphQL API.

The UI tests act in the browser and wait on this state (bounded polls, no sleeps as
synchronisation), then check that the page shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from data_platform.ops.stack.dagster_dev import DagsterDev

T = TypeVar("T")
LOCATION = "data_platform"
REPOSITORY = {"repositoryName": "__repository__", "repositoryLocationName": LOCATION}
TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}

ASSET_NODES = """{ assetNodes { assetKey { path } groupName isPartitioned isMaterializable
  dependencyKeys { path } } }"""
PARTITION_STATUS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { assetPartitionStatuses { ... on DefaultPartitionStatuses {
    materializedPartitions failedPartitions materializingPartitions unmaterializedPartitions
  } } } } }"""
PARTITION_KEYS = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { partitionKeys } } }"""
LATEST_METADATA = """query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { assetMaterializations(limit: 1) { runId metadataEntries { label __typename
    ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue }
    ... on TextMetadataEntry { text } ... on MarkdownMetadataEntry { mdStr }
    ... on UrlMetadataEntry { url } ... on PathMetadataEntry { path } } } } } }"""
RUNS = """query($filter: RunsFilter) { runsOrError(filter: $filter, limit: 20) {
  ... on Runs { results { runId status creationTime tags { key value } } } } }"""
RUN_LOGS = """query($id: ID!) { logsForRun(runId: $id, limit: 500) {
  ... on EventConnection { events { __typename ... on MessageEvent { message }
    ... on ExecutionStepFailureEvent { error { message cause { message stack } } } } } } }"""
CHECK_EXECUTIONS = """query($key: AssetKeyInput!, $name: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $name, limit: 20) {
    runId status evaluation { success description partition } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status partitionNames } ... on PythonError { message } } }"""
SENSOR = """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) {
  ... on Sensor { sensorState { id status ticks(limit: 1) { status } } } } }"""
STOP_SENSOR = """mutation($id: String) { stopSensor(id: $id) {
  __typename ... on StopSensorMutationResult { instigationState { status } }
  ... on PythonError { message } } }"""
ADD_PARTITION = """mutation($r: RepositorySelector!, $name: String!, $key: String!) {
  addDynamicPartition(repositorySelector: $r, partitionsDefName: $name, partitionKey: $key) {
    __typename ... on PythonError { message } } }"""


@dataclass(frozen=True)
class AssetNode:
    path: tuple[str, ...]
    group: str
    partitioned: bool
    deps: tuple[tuple[str, ...], ...]
    materializable: bool  # False for a stub Dagster makes up for an undefined dependency

    @property
    def url(self) -> str:
        return "/assets/" + "/".join(self.path)


def poll(probe: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.5) -> T:
    """`probe()` until it returns something other than None; its exceptions fail at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result is not None:
            return result
        time.sleep(interval)
    raise AssertionError(f"not {what} after {timeout:.0f}s")


def asset_nodes(dev: DagsterDev) -> list[AssetNode]:
    return [
        AssetNode(
            tuple(n["assetKey"]["path"]),
            n["groupName"],
            n["isPartitioned"],
            tuple(tuple(d["path"]) for d in n["dependencyKeys"]),
            n["isMaterializable"],
        )
        for n in dev.graphql(ASSET_NODES)["assetNodes"]
    ]


def group_edges(nodes: list[AssetNode]) -> set[tuple[str, str]]:
    """(upstream group, downstream group) for every dependency that crosses groups."""
    group_of = {n.path: n.group for n in nodes}
    return {
        (group_of[dep], n.group)
        for n in nodes
        for dep in n.deps
        if dep in group_of and group_of[dep] != n.group
    }


def partition_status(dev: DagsterDev, path: tuple[str, ...]) -> dict[str, set[str]]:
    node = dev.graphql(PARTITION_STATUS, {"key": {"path": list(path)}})["assetNodeOrError"]
    statuses = node["assetPartitionStatuses"]
    return {name.removesuffix("Partitions"): set(keys) for name, keys in statuses.items()}


def partition_keys(dev: DagsterDev, path: tuple[str, ...]) -> list[str]:
    node = dev.graphql(PARTITION_KEYS, {"key": {"path": list(path)}})["assetNodeOrError"]
    return node["partitionKeys"]


def latest_metadata(dev: DagsterDev, path: tuple[str, ...]) -> tuple[str, dict[str, Any]]:
    """(run id, {label: value}) of the asset's latest materialization."""
    node = dev.graphql(LATEST_METADATA, {"key": {"path": list(path)}})["assetNodeOrError"]
    [event] = node["assetMaterializations"]
    values = {}
    for entry in event["metadataEntries"]:
        kind = entry["__typename"].removesuffix("MetadataEntry")
        values[entry["label"]] = next(
            (v for k, v in entry.items() if k not in {"label", "__typename"}), kind
        )
    return event["runId"], values


def runs_tagged(dev: DagsterDev, tags: dict[str, str]) -> list[dict[str, Any]]:
    tag_list = [{"key": k, "value": v} for k, v in tags.items()]
    return dev.graphql(RUNS, {"filter": {"tags": tag_list}})["runsOrError"]["results"]


def runs_of_upload(dev: DagsterDev, dataset: str, key: str) -> list[dict[str, Any]]:
    """The ingest runs that name upload `key`: its own partition, or a batch's range that
    starts or ends with it (the tests' batches are of two uploads at most)."""
    found = []
    for run in runs_tagged(dev, {"data_platform/dataset": dataset}):
        tags = {t["key"]: t["value"] for t in run.get("tags", [])}
        named = {
            tags.get("dagster/partition"),
            tags.get("dagster/asset_partition_range_start"),
            tags.get("dagster/asset_partition_range_end"),
        }
        if key in named:
            found.append(run)
    return found


def run_messages(dev: DagsterDev, run_id: str) -> str:
    """The run's log messages, with each failed step's error."""
    events = dev.graphql(RUN_LOGS, {"id": run_id})["logsForRun"].get("events", [])
    lines = []
    for event in events:
        lines.append(event.get("message") or "")
        error = event.get("error") or {}
        if error.get("cause"):  # the user code's exception, with where it was raised
            cause = error["cause"]
            lines += ["  " + cause["message"].strip(), *cause["stack"][-2:]]
        elif error:
            lines.append("  " + error["message"].strip())
    return "\n".join(line for line in lines if line)[-3000:]


def wait_for_run(dev: DagsterDev, run_id: str, *, timeout: float) -> str:
    """The run's terminal status."""

    def finished() -> str | None:
        [run] = dev.graphql(RUNS, {"filter": {"runIds": [run_id]}})["runsOrError"]["results"]
        return run["status"] if run["status"] in TERMINAL else None

    return poll(finished, timeout=timeout, what=f"run {run_id} finished")


def assert_run_succeeded(dev: DagsterDev, run_id: str, *, timeout: float) -> None:
    status = wait_for_run(dev, run_id, timeout=timeout)
    assert status == "SUCCESS", f"run {run_id} {status}:\n{run_messages(dev, run_id)}"


def check_executions(dev: DagsterDev, path: tuple[str, ...], check: str) -> list[dict]:
    variables = {"key": {"path": list(path)}, "name": check}
    return dev.graphql(CHECK_EXECUTIONS, variables)["assetCheckExecutions"]


def wait_for_backfill(dev: DagsterDev, backfill_id: str, *, timeout: float) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        backfill = dev.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        assert "message" not in backfill, backfill
        return backfill if backfill["status"].startswith(("COMPLETED", "FAIL", "CANCEL")) else None

    return poll(finished, timeout=timeout, what=f"backfill {backfill_id} finished", interval=1)


def stop_sensor(dev: DagsterDev, name: str) -> None:
    selector = {**REPOSITORY, "sensorName": name}
    state = dev.graphql(SENSOR, {"s": selector})["sensorOrError"]["sensorState"]
    stopped = dev.graphql(STOP_SENSOR, {"id": state["id"]})["stopSensor"]
    assert stopped["__typename"] == "StopSensorMutationResult", stopped
    assert stopped["instigationState"]["status"] == "STOPPED", stopped

    def no_tick_in_flight() -> bool | None:
        ticks = dev.graphql(SENSOR, {"s": selector})["sensorOrError"]["sensorState"]["ticks"]
        return True if not ticks or ticks[0]["status"] != "STARTED" else None

    # a tick that began before the stop may still be listing the bucket
    poll(no_tick_in_flight, timeout=60, what=f"{name}'s last tick finished", interval=0.5)


def add_partition(dev: DagsterDev, partitions_def: str, key: str) -> None:
    variables = {"r": REPOSITORY, "name": partitions_def, "key": key}
    added = dev.graphql(ADD_PARTITION, variables)["addDynamicPartition"]
    assert added["__typename"] == "AddDynamicPartitionSuccess", added
