"""`embedded/saved_searches`: named semantic searches, re-run whenever vectors change.

The same search as `data-platform search` and `VectorStore.search`, kept as an asset so a
team can save the queries it watches and see their top hits on the asset page.
"""

import dagster as dg
import polars as pl
from pydantic import Field

from data_platform.datasets import DATASETS
from data_platform.defs.constants import OWNERS
from data_platform.defs.metadata import preview, write_metadata
from data_platform.resources import LakehouseResource
from data_platform.resources.vectors import VectorStoreResource

TABLE = "embedded.saved_searches"


class SavedSearch(dg.Config):
    name: str = Field(description="A short name for the query")
    dataset: str = Field(description="Dataset to search")
    query: str = Field(description="The text to search for")
    where: str = Field(default="", description="SQL filter on the vector table's columns")
    k: int = Field(default=10, ge=1, le=100)


class SavedSearchesConfig(dg.Config):
    searches: list[SavedSearch] = Field(
        default=[
            {"name": "broken_electronics", "dataset": "reviews", "query": "stopped charging"},
            {
                "name": "kitchen_praise",
                "dataset": "reviews",
                "query": "excellent kettle",
                "where": "category = 'kitchen'",
            },
            {"name": "outages", "dataset": "tickets", "query": "the site is down"},
        ],
        description="The saved searches to run",
    )


@dg.asset(
    key=["embedded", "saved_searches"],
    deps=[dg.AssetKey(["embedded", spec.name]) for spec in DATASETS],
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
    for search in config.searches:
        hits = store.search(search.dataset, search.query, k=search.k, where=search.where or None)
        spec = next(s for s in DATASETS if s.name == search.dataset)
        frames.append(
            hits.select(
                pl.lit(search.name).alias("search"),
                pl.int_range(1, pl.len() + 1).alias("rank"),
                pl.col("score").cast(pl.Float64),
                pl.col(spec.id_column).cast(pl.String).alias("record_id"),
                pl.col(spec.text_column).cast(pl.String).alias("text"),
            )
        )
    table = pl.concat(frames) if frames else pl.DataFrame()
    write = lakehouse.get_lakehouse().replace(
        TABLE, table.to_arrow(compat_level=pl.CompatLevel.oldest())
    )
    return dg.MaterializeResult(
        metadata={**write_metadata(write, frame=table), "top_hits": preview(table, rows=15)}
    )
