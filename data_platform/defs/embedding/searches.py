"""`embedded/saved_searches`: the semantic searches contracts declare, re-run on change.

The same search as `data-platform search` and `VectorStore.search`, kept as an asset so a
team can watch the queries it cares about and see their top hits on the asset page. Each
contract lists its own under `searches:`; run config can replace the list.
"""

from collections.abc import Sequence

import dagster as dg
import polars as pl
from pydantic import Field

from data_platform.contracts import Contract
from data_platform.defs.constants import OWNERS
from data_platform.defs.metadata import preview, write_metadata
from data_platform.defs.resources import LakehouseResource
from data_platform.defs.resources.embedding import VectorStoreResource

TABLE = "embedded.saved_searches"


class SavedSearch(dg.Config):
    name: str = Field(description="A short name for the query")
    dataset: str = Field(description="Dataset to search")
    query: str = Field(description="The text to search for")
    where: str = Field(default="", description="SQL filter on the vector table's columns")
    k: int = Field(default=10, ge=1, le=100)


def build_saved_searches(contracts: Sequence[Contract]) -> dg.AssetsDefinition:
    """The saved-searches asset over every contract that declares searches."""
    by_name = {c.name: c for c in contracts}
    declared = [
        {"name": s.name, "dataset": c.name, "query": s.query, "where": s.where, "k": s.k}
        for c in contracts
        for s in c.searches
    ]

    class SavedSearchesConfig(dg.Config):
        searches: list[SavedSearch] = Field(
            # Dagster takes a config default as plain data (dicts), not as Config instances
            default=declared,  # type: ignore[arg-type]
            description="The saved searches to run (default: the contracts')",
        )

    @dg.asset(
        key=["embedded", "saved_searches"],
        deps=[c.asset_key("embedded") for c in contracts],
        group_name="embedded",
        kinds={"lancedb", "iceberg"},
        owners=OWNERS,
        description="Top hits of the saved semantic searches, kept as a table.",
        metadata={"iceberg_table": TABLE},
    )
    def saved_searches(
        config: SavedSearchesConfig, vectors: VectorStoreResource, lakehouse: LakehouseResource
    ) -> dg.MaterializeResult:
        store = vectors.get_store()
        frames = []
        for given in config.searches:
            # a config default arrives as plain dicts, run config as SavedSearch objects
            search = SavedSearch.model_validate(given) if isinstance(given, dict) else given
            contract = by_name[search.dataset]
            hits = store.search(
                search.dataset, search.query, k=search.k, where=search.where or None
            )
            frames.append(
                hits.select(
                    pl.lit(search.name).alias("search"),
                    pl.int_range(1, pl.len() + 1).alias("rank"),
                    pl.col("score").cast(pl.Float64),
                    pl.col(contract.id_column).cast(pl.String).alias("record_id"),
                    pl.col(contract.text_column or "").cast(pl.String).alias("text"),
                )
            )
        table = pl.concat(frames) if frames else pl.DataFrame()
        write = lakehouse.get_lakehouse().replace(
            TABLE, table.to_arrow(compat_level=pl.CompatLevel.oldest())
        )
        return dg.MaterializeResult(
            metadata={**write_metadata(write, frame=table), "top_hits": preview(table, rows=15)}
        )

    return saved_searches
