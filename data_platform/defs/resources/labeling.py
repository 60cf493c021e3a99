"""`LabelingResource`: the labeling server (Label Studio by default, or Argilla).

The fields are the labeling section of `Settings`, for a deployment or a test to pin; the
ones left unset come from `DP_LABELING_*` when a run starts (never at import). With no URL,
the platform's local Label Studio is found through its state file under the home.
"""

from __future__ import annotations

from functools import cache

import dagster as dg
from pydantic import Field

from data_platform.defs.resources.env import env_bound, pinned
from data_platform.labeling.backend import LabelingBackend
from data_platform.labeling.connect import open_backend
from data_platform.settings import LabelingSettings, Settings, load_settings


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

    def get_settings(self) -> Settings:
        return load_settings(home=self.home, labeling=pinned(self, exclude={"home"}))

    def get_backend(self) -> LabelingBackend:
        """The backend client (raises if no server is configured and none runs locally)."""
        return open_backend(self.get_settings())


@cache
def default_labeling_resource() -> LabelingResource:
    """One shared instance, so per-dataset Definitions merge without a resource conflict.

    The token is `dg.EnvVar("DP_LABELING_TOKEN")` when that variable is set.
    """
    return LabelingResource(**env_bound(LabelingSettings, ("token",)))
