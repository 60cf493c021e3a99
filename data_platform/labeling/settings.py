"""Labeling settings: which backend, where, with which token (`DP_LABELING_*`).

With no URL configured the platform's own Label Studio is used: its URL and token come
from the state file that `data-platform labeling up` writes under `$DP_HOME`, the same
way `Settings` finds the embedded S3 store. No other module reads these variables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from data_platform.labeling.backend import LabelingBackend

BackendKind = Literal["label-studio", "argilla"]


class LabelingServerNotRunningError(RuntimeError):
    """No labeling URL is configured and the local Label Studio is not up."""


class LabelingSettings(BaseSettings):
    """Labeling settings, read from `DP_LABELING_*` (and `DP_HOME`) variables."""

    model_config = SettingsConfigDict(env_prefix="DP_LABELING_", extra="ignore", frozen=True)

    backend: BackendKind = Field(default="label-studio", description="label-studio or argilla.")
    url: str = Field(default="", description="Server URL. Empty: the local Label Studio.")
    token: SecretStr = Field(default=SecretStr(""), description="API token (or Argilla API key).")
    workspace: str = Field(default="data_platform", description="Argilla workspace.")
    project_prefix: str = Field(
        default="data_platform/", description="Project (dataset) names are <prefix><dataset>."
    )
    home: Path = Field(
        default=Path(".data_platform"),
        validation_alias="DP_HOME",
        description="The platform home; the local Label Studio keeps its state under it.",
    )

    @property
    def local_dir(self) -> Path:
        return self.home.expanduser().resolve() / "label-studio"

    @property
    def state_file(self) -> Path:
        return self.local_dir / "state.json"

    def connection(self) -> tuple[str, str]:
        """(url, token): configured, or the local Label Studio's from its state file."""
        if self.url:
            return self.url.rstrip("/"), self.token.get_secret_value()
        if self.backend != "label-studio":
            raise ValueError("DP_LABELING_BACKEND=argilla needs DP_LABELING_URL and a token")
        try:
            state = json.loads(self.state_file.read_text())
        except FileNotFoundError:
            raise LabelingServerNotRunningError(
                f"No labeling server: DP_LABELING_URL is not set and the local Label Studio "
                f"has no state at {self.state_file}. Run `data-platform labeling up` first."
            ) from None
        return state["url"], state["token"]

    def backend_client(self) -> LabelingBackend:
        """The configured backend (its SDK is imported on first use)."""
        url, token = self.connection()
        if self.backend == "argilla":
            from data_platform.labeling.argilla import ArgillaBackend

            return ArgillaBackend(url, token, self.project_prefix, workspace=self.workspace)
        from data_platform.labeling.label_studio import LabelStudioBackend

        return LabelStudioBackend(url, token, self.project_prefix)


def load_labeling_settings(**overrides: Any) -> LabelingSettings:
    """Settings from the environment, with explicit values (not None) taking precedence."""
    values = {k: v for k, v in overrides.items() if v not in (None, "")}
    if "home" in values:  # the field is read from DP_HOME; pass it by that alias
        values["DP_HOME"] = values.pop("home")
    return LabelingSettings(**values)
