"""The configured settings and lakehouse for a command: a bad or missing configuration is
a one-line error and exit code 2, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from data_platform.lakehouse import Lakehouse
    from data_platform.settings import Settings


def configured_settings() -> Settings:
    """`Settings()` from the environment, or exit 2 saying what is wrong."""
    from pydantic import ValidationError

    from data_platform.settings import Settings

    try:
        return Settings()
    except (ValidationError, ValueError) as exc:
        refuse(exc)


def refuse(exc: Exception) -> NoReturn:
    """Exit 2 with one line saying what is wrong with the configuration: for a setting that
    does not validate, its variable, the value given and why."""
    from pydantic import ValidationError

    from data_platform.settings import LabelingSettings, Settings, variable_name

    said = " ".join(str(exc).split())
    if isinstance(exc, ValidationError):
        model = LabelingSettings if exc.title == LabelingSettings.__name__ else Settings
        said = "; ".join(
            f"{variable_name(model, str(e['loc'][0]))}={e.get('input')!r}: {e['msg']}"
            if e["loc"]
            else e["msg"]
            for e in exc.errors()
        )
    typer.secho(f"error: no usable store configuration: {said}", err=True, fg="red")
    raise typer.Exit(2) from None


def open_lake(settings: Settings | None = None) -> Lakehouse:
    """The configured lakehouse; a missing store is a one-line error and exit code 2."""
    from data_platform.lakehouse import Lakehouse, open_catalog
    from data_platform.settings import StackNotRunningError

    try:
        return Lakehouse(open_catalog(settings or configured_settings()))
    except (StackNotRunningError, ValueError) as exc:
        refuse(exc)
