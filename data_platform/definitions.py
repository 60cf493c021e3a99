"""The code location: the `defs/` folder, loaded the way Dagster projects load (`dg`),
plus the resources and the executor, all reading the same settings.

`defs/datasets/defs.yaml` instantiates the `Datasets` component (one contract file, one
dataset's layers); the other folders under `defs/` hold the fixed assets (benchmarks,
maintenance). `defs` is built when Dagster loads the location, not at import; a broken
contract fails the load with one error per problem, `<file>:<line>: <field>: <what>`.
`build_definitions` is the same location with settings, labeling or contracts pinned
(tests, the demo, `data-platform ingest`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from data_platform.components.datasets import PINS, Pins
from data_platform.contracts import Contract, ContractError
from data_platform.defs.executor import build_executor
from data_platform.defs.resources import SettingsResource
from data_platform.defs.resources.bindings import build_resources
from data_platform.defs.resources.labeling import LabelingResource

DEFS_FOLDER = Path(__file__).parent / "defs"


def build_definitions(
    platform: SettingsResource | None = None,
    labeling: LabelingResource | None = None,
    contracts: Sequence[Contract] | None = None,
) -> dg.Definitions:
    """The code location; the arguments pin settings, labeling or contracts (tests, demo).

    Without `contracts`, the contracts in the datasets folder (`DP_DATASETS_DIR`) are read.
    """
    platform = platform or SettingsResource.from_environment()
    settings = platform.get_settings()
    token = PINS.set(Pins(contracts=contracts, labeling=labeling, settings=settings))
    try:
        folder = dg.load_from_defs_folder(path_within_project=DEFS_FOLDER)
    finally:
        PINS.reset(token)
    return dg.Definitions.merge(
        folder,
        dg.Definitions(resources=build_resources(platform), executor=build_executor(settings)),
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, as the environment's settings describe it.

    Under `dg check defs` (which sets `DAGSTER_IS_DEFS_VALIDATION_CLI`) each contract is
    also compared with its tables: a change that needs a migration fails the check, naming
    the table, the column, the old and new types and the command, before any upload meets
    it. Other loads (the webserver, the daemon, every run worker) skip the comparison:
    `datasets show` and the landing sensor say it there, without a catalog round trip at
    each start.
    """
    try:
        loaded = build_definitions()
    except Exception as exc:
        if isinstance(exc.__cause__, ContractError):  # Dagster wraps it in the defs tree
            # the file, line and field, without the loader's frames (the message says all)
            raise ContractError(str(exc.__cause__)) from None
        raise
    if os.environ.get("DAGSTER_IS_DEFS_VALIDATION_CLI") == "1":
        advice = contract_advice()
        if advice:  # a migration due is something to act on
            raise ContractError("; ".join(advice))
    return loaded


def contract_advice() -> list[str]:
    """For each contract whose tables need a migration, what to run; nothing when the lake
    cannot be reached (a load must not depend on it)."""
    from data_platform.contracts import scan_contracts
    from data_platform.ingest.evolution import contract_changes, migration_advice
    from data_platform.lakehouse import open_lakehouse
    from data_platform.settings import Settings

    try:
        settings = Settings()
        lake = open_lakehouse(settings)
        found = []
        for contract in scan_contracts(settings.datasets_dir).contracts:
            advice = migration_advice(contract, contract_changes(contract, lake))
            if advice:
                found.append(f"dataset {contract.name}: {advice}")
        return found
    except Exception:  # no stack, no catalog, a store that is down: nothing to compare
        return []
