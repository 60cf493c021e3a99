"""`VectorStoreResource`: LanceDB tables in the lake's bucket (or a local path)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from data_platform.defs.resources.platform import SettingsResource
from data_platform.embedding import VectorStore
from data_platform.embedding.backends import cache_dir_under, get_backend_embedder
from data_platform.embedding.model import Embedder


class VectorStoreResource(dg.ConfigurableResource):
    """Sentence-embedding tables, searchable, beside the Iceberg tables."""

    platform: SettingsResource
    local_path: str | None = Field(
        default=None, description="Keep LanceDB on this local path instead of the bucket."
    )

    embedding_backend: str = Field(
        default="torch",
        description="Runtime that embeds texts, for rows and queries alike: torch, onnx, "
        "openvino, openvino-bf16 (bf16 matmuls where the CPU has them), onnx-fused or "
        "onnx-int8 (graphs exported locally from the same model and cached under the "
        "platform's home; see data_platform.embedding.backends for speed and fidelity).",
    )

    def get_store(self) -> VectorStore:
        return VectorStore.from_settings(
            self.platform.get_settings(),
            local_path=self.local_path,
            embedding_backend=self.embedding_backend,
        )

    def get_embedder(self) -> Embedder:
        """The embedder of the configured backend (loaded once per process)."""
        home = self.platform.get_settings().home
        return get_backend_embedder(self.embedding_backend, cache_dir=cache_dir_under(home))
