"""`LabelingResource`: the labeling server (Label Studio by default, or Argilla).

Fields left unset are read from `DP_LABELING_*` variables when a run starts (never at
import); with no URL, the platform's local Label Studio is found through its state file.
"""

from __future__ import annotations

from functools import cache

import dagster as dg
from pydantic import Field

from data_platform.labeling.backend import LabelingBackend
from data_platform.labeling.settings import LabelingSettings, load_labeling_settings


class LabelingResource(dg.ConfigurableResource):
    """Where annotators label. Unset fields come from `DP_LABELING_*` or the local server."""

    backend: str | None = Field(
        default=None, description="label-studio or argilla (DP_LABELING_BACKEND)."
    )
    url: str | None = Field(
        default=None, description="Server URL (DP_LABELING_URL); empty: the local Label Studio."
    )
    token: str | None = Field(default=None, description="API token (DP_LABELING_TOKEN).")
    workspace: str | None = Field(
        default=None, description="Argilla workspace (DP_LABELING_WORKSPACE)."
    )
    project_prefix: str | None = Field(
        default=None, description="Projects are <prefix><dataset> (DP_LABELING_PROJECT_PREFIX)."
    )
    home: str | None = Field(
        default=None, description="Platform home holding the local server's state (DP_HOME)."
    )

    def get_settings(self) -> LabelingSettings:
        return load_labeling_settings(
            backend=self.backend,
            url=self.url,
            token=self.token,
            workspace=self.workspace,
            project_prefix=self.project_prefix,
            home=self.home,
        )

    def get_backend(self) -> LabelingBackend:
        """The backend client (raises if no server is configured and none runs locally)."""
        return self.get_settings().backend_client()


@cache
def default_labeling_resource() -> LabelingResource:
    """One shared instance, so per-dataset Definitions merge without a resource conflict."""
    return LabelingResource()
