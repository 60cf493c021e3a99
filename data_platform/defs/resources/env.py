"""Which resource fields Dagster sees as environment variables: decided here, once.

A secret-bearing field (S3 keys, the catalog URI, the labeling token) whose ``DP_*``
variable is set is bound to ``dg.EnvVar``: Dagster then shows it as env-sourced and never
prints its value, and resolves it when a run starts. A variable that is not set leaves the
field unset, and `Settings` supplies the value (a default, or the local stack's state file).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg
from pydantic_settings import BaseSettings

from data_platform.settings import variable_name, variables_set


def env_bound(section: type[BaseSettings], fields: Iterable[str]) -> dict[str, Any]:
    """``{field: dg.EnvVar(variable)}`` for each of `fields` whose variable is set."""
    names = {field: variable_name(section, field) for field in fields}
    present = variables_set(names.values())
    return {field: dg.EnvVar(name) for field, name in names.items() if name in present}


def pinned(resource: dg.ConfigurableResource, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The resource's field values for `load_settings`.

    Outside a run an `EnvVar` field still holds the variable's name: it is left out, and
    `Settings` reads the same variable. In a run Dagster has resolved it to the value.
    """
    fields = set(type(resource).model_fields) - set(exclude)
    return {
        name: value
        for name, value in resource.model_dump(include=fields).items()
        if not isinstance(getattr(resource, name), dg.EnvVar)
    }
