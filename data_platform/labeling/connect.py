"""`open_backend`: the labeling backend the settings name (Label Studio or Argilla).

Its own module, so the adapters import the backend base and nothing imports them back
(each adapter's SDK is imported only when its backend is chosen).
"""

from __future__ import annotations

from data_platform.labeling.backend import LabelingBackend
from data_platform.settings import Settings


def open_backend(settings: Settings) -> LabelingBackend:
    """The configured backend (its SDK is imported on first use).

    Raises:
        LabelingServerNotRunningError: no URL is configured and no local server runs.
    """
    url, token = settings.labeling_connection()
    section = settings.labeling
    if section.backend == "argilla":
        from data_platform.labeling.argilla import ArgillaBackend

        return ArgillaBackend(url, token, section.project_prefix, workspace=section.workspace)
    from data_platform.labeling.label_studio import LabelStudioBackend

    return LabelStudioBackend(url, token, section.project_prefix)
