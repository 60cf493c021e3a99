"""The one settings object, and the only module that reads or writes the environment.

Values come from the environment (``DP_*``, see ``.env.example``; the labeling server's in
the ``labeling`` section, ``DP_LABELING_*``). When no external S3 endpoint is configured,
the endpoint and keys come from the state file that the embedded stack writes on
``data-platform stack up``; with no labeling URL, the local Label Studio's state file gives
URL and token. Child processes and libraries that read variables of their own (Ray, Hugging
Face, DVC, Dagster) get them from `child_env` and `set_library_env` here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from data_platform.privacy.access import restricted_prefixes

CATALOG_NAME = "lakehouse"  # part of every table's key in the SQL catalog: keep it constant
DEFAULT_HOME = Path(".data_platform")  # project-local state, relative to the working directory

LabelingBackendKind = Literal["label-studio", "argilla"]


class StackNotRunningError(RuntimeError):
    """No external S3 endpoint is configured and the embedded stack is not up."""


class LabelingServerNotRunningError(RuntimeError):
    """No labeling URL is configured and the local Label Studio is not up."""


class LabelingSettings(BaseSettings):
    """The labeling section: which backend, where, with which token (``DP_LABELING_*``)."""

    model_config = SettingsConfigDict(env_prefix="DP_LABELING_", extra="ignore", frozen=True)

    backend: LabelingBackendKind = Field(
        default="label-studio", description="label-studio or argilla."
    )
    url: str = Field(default="", description="Server URL. Empty: the local Label Studio.")
    token: SecretStr = Field(default=SecretStr(""), description="API token (or Argilla API key).")
    workspace: str = Field(default="data_platform", description="Argilla workspace.")
    project_prefix: str = Field(
        default="data_platform/", description="Project (dataset) names are <prefix><dataset>."
    )


class Settings(BaseSettings):
    """Platform settings, read from ``DP_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="DP_", extra="ignore", frozen=True)

    home: Path = Field(
        default=DEFAULT_HOME,
        description="Project-local state: embedded stack data, catalog file, Dagster home.",
    )
    s3_endpoint: str = Field(
        default="",
        description="External S3 endpoint (MinIO, AWS). Empty: use the embedded stack.",
    )
    s3_access_key: str = Field(default="", description="Access key for s3_endpoint.")
    s3_secret_key: SecretStr = Field(default=SecretStr(""), description="Secret key.")
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    pii_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key of the HMAC that hashes personal columns (empty: <home>/pii.key, made "
        "once with mode 0600). Changing it changes every hash (docs/privacy.md).",
    )
    bucket: str = Field(default="lake", description="Bucket that holds the whole lake.")
    identity: Literal["admin", "analyst"] = Field(
        default="admin",
        description="Who the commands act as. `analyst`: the embedded store's analyst keys "
        "(an external store: the keys given), and the raw layer refused before anything "
        "is read (it holds personal values in clear).",
    )
    landing_prefix: str = Field(default="landing/", description="Where uploads land.")
    archive_prefix: str = Field(
        default="archive/", description="Where ingested uploads are kept (out of landing)."
    )
    quarantine_prefix: str = Field(default="quarantine/", description="Where bad uploads go.")
    datasets_dir: Path = Field(
        default=Path("datasets"), description="Folder of dataset contracts (<name>.yaml)."
    )
    ingest_batch_rows: int = Field(
        default=100_000, ge=1, description="Rows per batch of an upload streamed from disk."
    )
    ingest_spool_mb: int = Field(
        default=256,
        ge=0,
        description="Uploads larger than this are spooled to local disk and streamed.",
    )
    ingest_profiles: bool = Field(
        default=True,
        description="Profile each upload as it is ingested (profiles/<name>) and check its "
        "drift against the contract's reference.",
    )
    upsert_rewrite_below_rows: int = Field(
        default=1_000,
        ge=0,
        description="upsert: an earlier upload's partition smaller than this is rewritten "
        "without its replaced rows (copy-on-write); a larger one gets position-delete files "
        "(merge-on-read: only the key columns are read, nothing rewritten).",
    )
    ingest_batch_files: int = Field(
        default=500,
        ge=1,
        description="Uploads one ingest run takes at most (a batch; Auto Loader's "
        "maxFilesPerTrigger).",
    )
    ingest_batch_mb: int = Field(
        default=256,
        ge=1,
        description="Megabytes of uploads one ingest run takes at most (a larger upload runs "
        "alone; maxBytesPerTrigger).",
    )
    landing_max_runs_per_tick: int = Field(
        default=8, ge=1, description="Ingest runs (batches) one landing sensor tick asks for."
    )
    landing_max_in_flight: int = Field(
        default=2000,
        ge=1,
        description="Uploads of a dataset asked for and not yet out of landing; the sensor "
        "asks for more as they leave (its cursor holds 11 bytes per upload in flight).",
    )
    landing_retry_after_s: int = Field(
        default=900,
        ge=1,
        description="Seconds after which uploads still in landing are asked for again "
        "(their run ended without moving them: failed, or waiting for a fixed contract).",
    )
    landing_sensor_interval_s: int = Field(
        default=15,
        ge=1,
        description="Seconds between the landing sensor's looks for new uploads (the daemon's).",
    )
    keep_snapshots: int = Field(
        # each table's metadata holds up to keep * 5/4 snapshots and every commit reads and
        # writes all of them: 50 keeps the 500th upload's commit within ~10% of the 5th's
        default=50,
        ge=0,
        description="Untagged snapshots each table keeps (older ones expire on write; 0: all).",
    )
    catalog_uri: str = Field(
        default="",
        description="SQLAlchemy URI of the Iceberg SQL catalog. Empty: SQLite under home.",
    )
    dagster_home: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("dagster_home", "DAGSTER_HOME"),
        description="Dagster's instance folder ($DAGSTER_HOME). Empty: <home>/dagster_home.",
    )
    label_studio_venv: Path | None = Field(
        default=None,
        description="Label Studio's own venv. Empty: <user cache>/data_platform/label-studio-<v>.",
    )
    labeling: LabelingSettings = Field(
        default_factory=LabelingSettings, description="The labeling server (DP_LABELING_*)."
    )
    ray_address: str = Field(
        default="",
        description="Ray cluster (host:port) that `executor: ray` runs on, e.g. a KubeRay "
        "head or `data-platform cluster up`'s. Empty: a Ray started in the run's process.",
    )
    ray_jobs_address: str = Field(
        default="",
        description="Ray's Jobs API (the head's dashboard, e.g. http://ray-head:8265) that "
        "DP_DAGSTER_EXECUTOR=ray submits steps to. Empty: `cluster up`'s, if DP_RAY_ADDRESS is it.",
    )
    dagster_executor: Literal["in_process", "ray"] = Field(
        default="in_process",
        description="How a run executes its steps: in the run's process, or each step as a "
        "Ray job on the cluster (dagster-ray's ray_executor).",
    )
    ray_token_file: str = Field(
        default="",
        validation_alias=AliasChoices("ray_token_file", "DP_RAY_TOKEN_FILE", "RAY_AUTH_TOKEN_PATH"),
        description="Auth token file of the external Ray cluster (Ray's RAY_AUTH_TOKEN_PATH).",
    )

    @model_validator(mode="after")
    def _check_external(self) -> Settings:
        if self.s3_endpoint and not urlparse(self.s3_endpoint).scheme:
            raise ValueError(
                f"DP_S3_ENDPOINT={self.s3_endpoint!r} needs a scheme, e.g. http://host:9000"
            )
        if self.s3_endpoint and not (self.s3_access_key and self.s3_secret_key.get_secret_value()):
            raise ValueError("DP_S3_ENDPOINT is set: DP_S3_ACCESS_KEY and DP_S3_SECRET_KEY too")
        return self

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> Settings:
        """A copy that finds its own store: the cached endpoint and keys are not carried over."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("_connection", None)
        return copied

    # -- where things live -------------------------------------------------------------
    @property
    def home_dir(self) -> Path:
        """$DP_HOME, created readable by its owner only (0700): it holds the store's data,
        its keys and the catalog. An existing folder keeps the mode it has."""
        home = self.home.expanduser().resolve()
        if not home.is_dir():
            try:
                home.mkdir(mode=0o700, parents=True, exist_ok=True)
            except OSError:
                pass  # a read-only place: whoever writes there says so
        return home

    @property
    def spool_dir(self) -> Path:
        """Local scratch space for large uploads being ingested."""
        return self.home_dir / "spool"

    @property
    def stack_dir(self) -> Path:
        return self.home_dir / "stack"

    @property
    def stack_state_file(self) -> Path:
        return self.stack_dir / "state.json"

    @property
    def label_studio_dir(self) -> Path:
        """Where the local Label Studio keeps its data and state file."""
        return self.home_dir / "label-studio"

    @property
    def label_studio_state_file(self) -> Path:
        return self.label_studio_dir / "state.json"

    def labeling_connection(self) -> tuple[str, str]:
        """(url, token) of the labeling server: configured, or the local Label Studio's."""
        labeling = self.labeling
        if labeling.url:
            return labeling.url.rstrip("/"), labeling.token.get_secret_value()
        if labeling.backend != "label-studio":
            raise ValueError("DP_LABELING_BACKEND=argilla needs DP_LABELING_URL and a token")
        try:
            state = json.loads(self.label_studio_state_file.read_text())
        except FileNotFoundError:
            raise LabelingServerNotRunningError(
                f"No labeling server: DP_LABELING_URL is not set and the local Label Studio "
                f"has no state at {self.label_studio_state_file}. "
                "Run `data-platform labeling up` first."
            ) from None
        return state["url"], state["token"]

    @property
    def uses_embedded_stack(self) -> bool:
        return not self.s3_endpoint

    @property
    def warehouse(self) -> str:
        return f"s3://{self.bucket}/warehouse"

    @property
    def catalog_url(self) -> str:
        return self.catalog_uri or f"sqlite:///{self.home_dir / 'catalog.db'}"

    # -- credentials -------------------------------------------------------------------
    @cached_property
    def _connection(self) -> dict[str, str]:
        if self.s3_endpoint:
            return {
                "endpoint": self.s3_endpoint.rstrip("/"),
                "access_key": self.s3_access_key,
                "secret_key": self.s3_secret_key.get_secret_value(),
            }
        try:
            state = json.loads(self.stack_state_file.read_text())
        except FileNotFoundError:
            raise StackNotRunningError(
                f"No S3 store: DP_S3_ENDPOINT is not set and the embedded stack has no state "
                f"at {self.stack_state_file}. Run `data-platform stack up` first."
            ) from None
        if self.identity == "analyst":
            return {
                "endpoint": state["endpoint"],
                "access_key": state["analyst_access_key"],
                "secret_key": state["analyst_secret_key"],
            }
        return {k: state[k] for k in ("endpoint", "access_key", "secret_key")}

    @property
    def endpoint(self) -> str:
        return self._connection["endpoint"]

    @property
    def access_key(self) -> str:
        return self._connection["access_key"]

    @property
    def secret_key(self) -> str:
        return self._connection["secret_key"]

    @property
    def secure(self) -> bool:
        return urlparse(self.endpoint).scheme == "https"

    @property
    def host(self) -> str:
        return urlparse(self.endpoint).netloc

    def as_env(self) -> dict[str, str]:
        """The DP_* variables that make a child process (dagster dev, a script) see this store."""
        return {
            "DP_HOME": str(self.home),
            "DP_S3_ENDPOINT": self.endpoint,
            "DP_S3_ACCESS_KEY": self.access_key,
            "DP_S3_SECRET_KEY": self.secret_key,
            "DP_BUCKET": self.bucket,
        }

    @property
    def restricted_prefixes(self) -> tuple[str, ...]:
        """Key prefixes holding uploads or rows as they arrived (the analyst may not read)."""
        return restricted_prefixes(self.landing_prefix, self.archive_prefix, self.quarantine_prefix)

    def s3_uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key.lstrip('/')}"


def load_settings(*, labeling: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with explicit values (not None or "") taking precedence.

    Args:
        labeling: Values of the labeling section (backend, url, token, ...).
        **overrides: Values of the top-level fields (home, s3_endpoint, bucket, ...).
    """
    values = _given(overrides)
    if section := _given(labeling or {}):
        values["labeling"] = LabelingSettings(**section)
    return Settings(**values)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def variable_name(section: type[BaseSettings], field: str) -> str:
    """The environment variable of a settings field, e.g. ``DP_S3_SECRET_KEY``."""
    return f"{section.model_config.get('env_prefix', '')}{field}".upper()


def variables_set(names: Iterable[str]) -> set[str]:
    """Which of these variables are set (not empty) in this process's environment."""
    return {name for name in names if os.environ.get(name)}


# -- the environment of child processes and libraries ---------------------------------------
def child_env(keep: Iterable[str] | None = None, **extra: str) -> dict[str, str]:
    """The environment a child process starts from: this one's (or only `keep`), plus `extra`."""
    base = dict(os.environ) if keep is None else {k: os.environ[k] for k in keep if k in os.environ}
    return {**base, **extra}


def remote_step_env(settings: Settings) -> list[str]:
    """The environment of a step run elsewhere (a Ray job), as dagster-ray's `env_vars`.

    Folders as absolute paths (the step's working directory is the node's, not this one's),
    and by name every other DP_* variable and DAGSTER_HOME set here: dagster-ray reads
    those values where it launches the step, so no secret is written into the definitions.
    """
    paths = {"DP_HOME": settings.home_dir, "DP_DATASETS_DIR": settings.datasets_dir.resolve()}
    if settings.dagster_home is not None:
        paths["DAGSTER_HOME"] = settings.dagster_home.expanduser().resolve()
    names = sorted(k for k in os.environ if k.startswith("DP_") or k == "DAGSTER_HOME")
    return [f"{k}={v}" for k, v in paths.items()] + [k for k in names if k not in paths]


@contextmanager
def scoped_library_env(values: Mapping[str, str]) -> Iterator[None]:
    """Set variables a library reads (Ray's token auth) for a `with`, then put them back."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def set_library_env(values: Mapping[str, str], *, override: bool = True) -> dict[str, str]:
    """Set variables a library reads when imported (Ray, Hugging Face); returns what is in effect.

    With `override=False` a value already in the environment wins (an operator's choice).
    """
    for key, value in values.items():
        if override:
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)
    return {key: os.environ[key] for key in values}


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME``, else ``~/.cache``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def ca_certs_file() -> str | None:
    """``$SSL_CERT_FILE``: a private CA bundle the S3 client should trust, if one is set."""
    return os.environ.get("SSL_CERT_FILE") or None
