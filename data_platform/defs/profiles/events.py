"""An upload's profile as the materialization of `profiles/<name>`, its drift as the
`drift` check of staged (a table of every metric, a plot of what moved)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import dagster as dg

from data_platform.check_outcome import CheckOutcome, Markdown
from data_platform.contracts import Contract
from data_platform.defs.checks import check_result
from data_platform.defs.metadata import image, write_metadata
from data_platform.ingest.results import Profiled
from data_platform.profiles.summary import drift_table, markdown, profile_table

CHECK_NAME = "drift"


def profiles_spec(contract: Contract, partitions_def: dg.PartitionsDefinition) -> dict:
    """The keyword arguments of `profiles/<name>`'s AssetSpec (beside the layers')."""
    return {
        "key": contract.asset_key("profiles"),
        "deps": [contract.asset_key("staged")],
        "group_name": "profiles",
        "kinds": {"iceberg", "datasketches"},
        "description": f"{contract.name}: a profile of each upload (counts, quantiles, "
        "histograms, top values, distinct counts as mergeable sketches), one row per column.",
        "metadata": {"dataset": contract.name, "iceberg_table": contract.table("profiles")},
        "partitions_def": partitions_def,
    }


def drift_spec(contract: Contract, partitions_def: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """Staged's drift check, per upload; blocking when the contract says so."""
    drift = contract.drift
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # partitioned checks
        return dg.AssetCheckSpec(
            CHECK_NAME,
            asset=contract.asset_key("staged"),
            blocking=drift.blocking,
            partitions_def=partitions_def,
            description=f"Each upload of {contract.name} against {drift.reference} (PSI, "
            "Jensen-Shannon, Wasserstein, KS, new categories, null rates): warns"
            + (", and quarantines the upload," if drift.blocking else "")
            + " when a threshold is crossed.",
        )


def profiled_events(
    result: Profiled, contract: Contract
) -> Iterator[dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    if result.write is not None:
        yield dg.AssetMaterialization(
            asset_key=contract.asset_key("profiles"),
            partition=result.partition,
            metadata={
                **write_metadata(result.write),
                "profile": dg.MetadataValue.md(markdown(profile_table(result.profile, contract))),
                "rows_profiled": dg.MetadataValue.int(result.profile.rows),
            },
        )
    yield drift_evaluation(result, contract)


def drift_evaluation(result: Profiled, contract: Contract) -> dg.AssetCheckEvaluation:
    report = result.drift
    metadata: dict[str, object] = {
        "reference": report.reference,
        "reference_rows": report.reference_rows,
        "upload_rows": report.upload_rows,
        "drifting_columns": report.columns,
        "metrics": Markdown(markdown(drift_table(report))) if report.metrics else "none",
    }
    if result.refused:
        metadata["quarantined"] = True
    outcome = CheckOutcome(
        not report.drifted,
        report.summary(),
        metadata,
        severity="error" if result.refused else "warn",
    )
    key = contract.asset_key("staged")
    checked = check_result(CHECK_NAME, outcome, key)
    final = dict(checked.metadata)
    if result.plot:
        final["reference_vs_upload"] = image(result.plot, "reference against upload")
    return dg.AssetCheckEvaluation(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=checked.passed,
        metadata=final,
        severity=checked.severity,
        description=checked.description,
        blocking=contract.drift.blocking,
        partition=result.partition,
    )
