"""`raw/`, `staged/` and `transformed/<dataset>`: one upload, one straight step.

The three layers of a dataset are one multi-asset, so an upload is read once, parsed once
with the contract's types, validated once, and its three tables are written from the same
frames, batch by batch (large uploads stream; memory follows the batch). After the last
batch comes the one decision: publish (staged and transformed committed, the upload moved
to the archive) or quarantine (the upload moved to quarantine with its problems; staged and
transformed of that upload removed; the run fails, not retried). Raw is committed either
way: it holds everything readable, typed, with unparsed text in `_rescued_data`.

A subset re-decides from what is already in the lake, e.g. staged and transformed `as_of` a
tag re-validate the tagged raw rows (raw is replayable); transformed alone re-derives the
features from staged.
"""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg

from data_platform.contracts import Contract
from data_platform.defs.config import LayerConfig
from data_platform.defs.constants import OWNERS
from data_platform.defs.ingest.checks import schema_valid_result, schema_valid_spec
from data_platform.defs.ingest.partitions import uploads_partitions
from data_platform.defs.metadata import write_metadata
from data_platform.defs.profiles.events import drift_spec, profiled_events, profiles_spec
from data_platform.defs.resources import LakehouseResource, ObjectStoreResource
from data_platform.ingest.results import (
    ContractMismatch,
    IngestFailed,
    LayerWritten,
    Profiled,
    UploadRefused,
    Validated,
)
from data_platform.ingest.run import LAYERS, IngestRun
from data_platform.lakehouse.schema_policy import SchemaPolicyError

RETRY = dg.RetryPolicy(
    max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
DESCRIPTIONS = {
    "raw": "every readable upload, typed; text that did not parse is kept in _rescued_data",
    "staged": "validated against the contract (blocking schema_valid check), cleaned",
    "transformed": "training-ready features derived from the contract's types",
}
KINDS = {
    "raw": {"iceberg", "polars", "s3"},
    "staged": {"iceberg", "polars", "pandera"},
    "transformed": {"iceberg", "polars"},
}


def layer_key(layer: str, contract: Contract) -> dg.AssetKey:
    return contract.asset_key(layer)


# extra values of a result that Dagster should not guess the type of
EXTRA_AS: dict[str, Callable[[Any], dg.MetadataValue]] = {
    "source_bytes": dg.MetadataValue.int,
    "source_columns": dg.MetadataValue.json,
}


def build_ingest_assets(contract: Contract) -> dg.AssetsDefinition:
    """The raw, staged and transformed assets of one dataset, as one multi-asset."""
    keys = {layer: layer_key(layer, contract) for layer in LAYERS}
    partitions = uploads_partitions(contract.name)
    specs = [
        dg.AssetSpec(
            keys[layer],
            deps=[keys[LAYERS[i - 1]]] if i else [],
            group_name=layer,
            kinds=KINDS[layer],
            owners=OWNERS,
            description=f"{contract.name}: {DESCRIPTIONS[layer]}.",
            metadata={
                "dataset": contract.name,
                "iceberg_table": contract.table(layer),
                "contract_version": contract.version,
            },
            partitions_def=partitions,
            skippable=True,
        )
        for i, layer in enumerate(LAYERS)
    ]
    specs.append(dg.AssetSpec(**profiles_spec(contract, partitions), owners=OWNERS, skippable=True))

    @dg.multi_asset(
        name=f"ingest__{contract.name}",  # the op; the job is ingest_<name>
        specs=specs,
        check_specs=[
            schema_valid_spec(keys["staged"], contract, partitions),
            drift_spec(contract, partitions),
        ],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        can_subset=True,
        retry_policy=RETRY,
        description=f"Ingest one upload of {contract.name}: read once, parse once, "
        "validate once, then publish or quarantine.",
    )
    def ingest(
        context: dg.AssetExecutionContext,
        config: LayerConfig,
        store: ObjectStoreResource,
        lakehouse: LakehouseResource,
    ) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
        selected = {layer for layer in LAYERS if keys[layer] in context.selected_asset_keys}
        if contract.asset_key("profiles") in context.selected_asset_keys:
            selected.add("profiles")
        run = IngestRun(
            contract=contract,
            # one upload, or a batch: the sensor asks for ranges of new uploads, and a
            # backfill of many uploads is one run (BackfillPolicy.single_run)
            partitions=list(context.partition_keys),
            settings=store.platform.get_settings(),
            client=store.get_client(),
            lake=lakehouse.get_lakehouse(),
            log=context.log.info,
        )
        if "raw" in selected:
            results = run.from_uploads(selected)
        elif "staged" in selected:
            results = run.from_raw(config.as_of, selected)
        else:
            results = run.features_only(config.as_of)
        failed: IngestFailed | None = None
        try:
            # each result becomes its event as soon as the run yields it
            for result in results:
                if isinstance(result, Profiled):
                    checks = context.selected_asset_check_keys
                    yield from (
                        e
                        for e in profiled_events(result, contract)
                        if not isinstance(e, dg.AssetCheckEvaluation) or e.asset_check_key in checks
                    )
                else:
                    yield event(result, keys)
        except IngestFailed as exc:
            failed = exc
        except SchemaPolicyError as exc:  # deterministic: fail once, with its message
            failed = ContractMismatch(
                f"{exc}; the upload stays in landing until the contract and the table agree: "
                f"`data-platform datasets migrate {contract.name}` rebuilds the tables under "
                "the new contract (or change the contract back)"
            )
        if failed:
            # raised outside the handler, so it chains as the run's exception did (an
            # unreadable upload's UploadError as its context), not to this mapping
            error = failure(failed)
            error.__cause__, error.__context__ = failed.__cause__, failed.__context__
            error.__suppress_context__ = failed.__suppress_context__
            raise error

    return ingest


def event(
    result: LayerWritten | Validated, keys: dict[str, dg.AssetKey]
) -> dg.AssetMaterialization | dg.AssetCheckEvaluation:
    """A materialization of the upload's partition for a layer written, its `schema_valid`
    check for a verdict: each upload of a batch has its own events (and its own outcome)."""
    if isinstance(result, LayerWritten):
        extra = {k: EXTRA_AS[k](v) if k in EXTRA_AS else v for k, v in result.extra.items()}
        metadata: dict[str, Any] = {
            **write_metadata(result.write, result.inputs, result.preview),
            **extra,
        }
        return dg.AssetMaterialization(
            asset_key=keys[result.layer], partition=result.partition, metadata=metadata
        )
    return schema_valid_result(keys["staged"], result)


def failure(exc: IngestFailed) -> dg.Failure:
    """A refused or missing upload fails the run without retry: a retry cannot help."""
    if isinstance(exc, UploadRefused):
        return dg.Failure(
            description=exc.description,
            metadata={
                "quarantined_to": exc.quarantined_to,
                "problem_count": dg.MetadataValue.int(exc.problem_count),
                "raw_snapshot": exc.raw_snapshot,
            },
            allow_retries=False,
        )
    return dg.Failure(description=exc.description, allow_retries=False)
