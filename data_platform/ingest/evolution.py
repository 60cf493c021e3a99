"""A contract against the tables it built: which changes apply in place, which need a
migration (`data-platform datasets migrate NAME`), named column by column."""

from __future__ import annotations

from dataclasses import dataclass

from data_platform.contracts import Contract
from data_platform.ingest.run import layer_schemas
from data_platform.lakehouse import Lakehouse
from data_platform.lakehouse.schema_policy import SchemaChange, schema_changes


@dataclass(frozen=True)
class TableChanges:
    table: str
    changes: list[SchemaChange]

    @property
    def needs_migration(self) -> bool:
        return any(not c.in_place for c in self.changes)


def contract_changes(contract: Contract, lake: Lakehouse) -> list[TableChanges]:
    """For each existing layer table of `contract`: what the contract changes in it."""
    found = []
    for layer, schema in layer_schemas(contract).items():
        table = lake.load(contract.table(layer))
        if table is None:
            continue
        changes = schema_changes(table, schema)
        if changes:
            found.append(TableChanges(contract.table(layer), changes))
    return found


def migration_advice(contract: Contract, changes: list[TableChanges]) -> str:
    """One line for a person: which columns need a migration, and the command to run."""
    needing = [f"{t.table}: {c.describe()}" for t in changes for c in t.changes if not c.in_place]
    if not needing:
        return ""
    return (
        f"{'; '.join(needing)}. Run `data-platform datasets migrate {contract.name}` to rebuild "
        "the tables under the new contract (the old ones are kept aside, tagged)"
    )
