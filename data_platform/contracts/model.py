"""The dataset contract: what a dataset's uploads must look like, declared in YAML.

A contract names the columns with their types and rules, the key, the text to embed, the
label to annotate and the target to predict. Every layer is built from it: raw, staged and
transformed always; `embedded` when it has text columns; the labeling queue and `labeled`
when it has a label with classes; `inference` when it has a target. No dataset is code.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from data_platform.contracts.base import Strict
from data_platform.contracts.columns import RECORD_ID, TEXT
from data_platform.contracts.monitoring import TRAINING, Drift, Environment
from data_platform.contracts.privacy import DEFAULT_ACTION, PiiAction, PiiKind, check_action

if TYPE_CHECKING:
    import dagster as dg
    import polars as pl

NAME = r"^[a-z][a-z0-9_]{0,62}$"
ColumnType = Literal["integer", "float", "boolean", "string", "date", "datetime", "list"]

# The datetime spellings an upload may use, each with whether it carries an offset.
# `%+` is chrono's RFC 3339 / ISO 8601 item (`T` or a space, any fraction, `Z`, `+hh:mm` or
# `+hhmm`), twice as fast as the same spelled out; the spelled-out ones after it take what
# it does not. Ingestion parses by this list; contract inference proposes a datetime by it.
DATETIME_FORMATS = (
    ("%+", True),
    ("%Y-%m-%dT%H:%M:%S%.f%z", True),
    ("%Y-%m-%d %H:%M:%S%.f%z", True),
    ("%Y-%m-%dT%H:%M%z", True),
    ("%Y-%m-%dT%H:%M:%S%.f", False),
    ("%Y-%m-%d %H:%M:%S%.f", False),
    ("%Y-%m-%dT%H:%M", False),
    ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%d", False),
)
# The date spellings: the day, alone or at midnight with no offset or with `Z`, which is
# how pandas (`date_format="iso"`), JavaScript and many exports write a date. Ingestion
# parses by these; contract inference proposes a date by them.
DATE_FORMAT = "%Y-%m-%d"
MIDNIGHT = r"[T ]00:00(?::00(?:\.0+)?)?Z?$"  # what may follow the day


def date_from_text(text: pl.Expr) -> pl.Expr:
    """`text` as a date by the spellings above; anything else (a time of day) is null."""
    return text.str.replace(MIDNIGHT, "").str.to_date(DATE_FORMAT, strict=False)


ItemType = Literal["integer", "float", "boolean", "string"]


def _scalar(name: str) -> pl.DataType:
    # polars is imported where a dtype or an expression is asked for, not to read a
    # contract: listing or checking contracts (the CLI) needs no dataframe library
    import polars as pl

    scalars: dict[str, pl.DataType] = {
        "integer": pl.Int64(),
        "float": pl.Float64(),
        "boolean": pl.Boolean(),
        "string": pl.String(),
        "date": pl.Date(),
    }
    return scalars[name]


class Column(Strict):
    """One column: its type and the rules its values must follow."""

    type: ColumnType = Field(description="integer, float, boolean, string, date, datetime, list")
    description: str = ""
    nullable: bool = Field(default=False, description="May a value be missing?")
    unique: bool = Field(default=False, description="No two rows share a value.")
    timezone: str | None = Field(
        default=None, description="datetime only: e.g. UTC; absent: a naive (local) datetime."
    )
    items: ItemType | None = Field(default=None, description="list only: the item type.")
    min: float | None = Field(default=None, description="Smallest allowed value (numbers).")
    max: float | None = Field(default=None, description="Largest allowed value (numbers).")
    allowed: tuple[str | int | float | bool, ...] | None = Field(
        default=None, description="The only values allowed."
    )
    regex: str | None = Field(default=None, description="strings: must match (anywhere).")
    min_length: int | None = Field(default=None, ge=0, description="strings: fewest characters.")
    max_length: int | None = Field(default=None, ge=1, description="strings: most characters.")
    allow_non_finite: bool = Field(
        default=False, description="float only: accept inf, -inf and NaN (refused by default)."
    )
    renamed_from: str | None = Field(
        default=None,
        description="The column's former name: the tables rename it in place, keeping its data.",
    )
    pii: PiiKind | None = Field(
        default=None,
        description="Personal data: staged and every layer after it hold it de-identified "
        "(raw keeps the original).",
    )
    action: PiiAction | None = Field(
        default=None,
        description="How a personal column is de-identified (default by its kind: hash, "
        "redact, generalise, scrub); drop empties it.",
    )

    @model_validator(mode="after")
    def _fits_the_type(self) -> Column:
        if self.timezone is not None and self.type != "datetime":
            raise ValueError("timezone applies to datetime columns only")
        if self.type == "list" and self.items is None:
            raise ValueError("a list column needs `items` (integer, float, boolean or string)")
        if self.items is not None and self.type != "list":
            raise ValueError("items applies to list columns only")
        if (self.min is not None or self.max is not None) and self.type not in (
            "integer",
            "float",
        ):
            raise ValueError("min and max apply to integer and float columns")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if (self.regex or self.min_length is not None or self.max_length is not None) and (
            self.type != "string"
        ):
            raise ValueError("regex, min_length and max_length apply to string columns")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        if self.allow_non_finite and self.type != "float":
            raise ValueError("allow_non_finite applies to float columns only")
        if self.action is not None and self.pii is None:
            raise ValueError("action applies to personal columns (declare `pii:`)")
        if self.pii is not None:
            check_action(self.pii, self.deidentify, self.type)
        return self

    @property
    def deidentify(self) -> PiiAction | None:
        """How staged holds the column: its action, or its kind's default; None: as is."""
        if self.pii is None:
            return None
        return self.action or DEFAULT_ACTION[self.pii]

    @property
    def dtype(self) -> pl.DataType:
        """The polars type of the column in every layer's table."""
        import polars as pl

        if self.type == "datetime":
            return pl.Datetime("us", self.timezone)
        if self.type == "list":
            return pl.List(_scalar(self.items or "string"))
        return _scalar(self.type)


class Label(Strict):
    """A class label annotators assign (the labeling queue and `labeled` follow from it)."""

    column: str
    classes: tuple[str, ...] = Field(min_length=2)

    @field_validator("classes")
    @classmethod
    def _distinct(cls, classes: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(classes)) != len(classes):
            raise ValueError("classes must be distinct")
        return classes


class Target(Strict):
    """A column a model predicts from the others (`inference/<name>` follows from it)."""

    column: str
    task: Literal["classification", "regression"]


class SavedSearch(Strict):
    """A semantic search kept as an asset (`embedded/saved_searches`), re-run on change."""

    name: str = Field(pattern=NAME)
    query: str = Field(min_length=1)
    where: str = Field(default="", description="SQL filter on the vector table's columns")
    k: int = Field(default=10, ge=1, le=100)


class Contract(Strict):
    """A dataset, declared once in `datasets/<name>.yaml`; every layer is built from it."""

    name: Annotated[str, Field(pattern=NAME, description="snake_case; the table name")]
    version: int = Field(default=1, ge=1, description="Bump when you change the contract.")
    description: str = ""
    key: tuple[str, ...] = Field(
        default=(), description="Columns identifying a row; empty: upload and row number."
    )
    mode: Literal["append", "upsert"] = Field(
        default="append",
        description="append: rows accumulate, the key unique across the table; upsert: a "
        "later upload's row replaces the current row with its key (raw keeps every version).",
    )
    duplicates: Literal["refuse", "allow"] = Field(
        default="refuse",
        description="append only: an upload repeating a key already published is refused "
        "(quarantined, naming the upload that holds it) or allowed.",
    )
    delete_marker: str | None = Field(
        default=None,
        description="upsert only: an upload column whose value `delete_value` deletes the row's "
        "key (the column need not be declared).",
    )
    delete_value: str = Field(default="D", description="The delete marker's value for a delete.")
    text: tuple[str, ...] = Field(default=(), description="Free-text columns to embed.")
    label: Label | None = None
    target: Target | None = None
    columns: dict[str, Column] = Field(min_length=1)
    searches: tuple[SavedSearch, ...] = Field(
        default=(), description="Semantic searches to keep (needs text columns)."
    )
    drift: Drift = Field(
        default_factory=Drift,
        description="Thresholds of the `drift` check of each upload against a reference.",
    )
    environments: dict[str, Environment] = Field(
        default_factory=dict,
        description="Folders of landing whose uploads may lack some columns (e.g. serving).",
    )

    @field_validator("columns")
    @classmethod
    def _column_names(cls, columns: dict[str, Column]) -> dict[str, Column]:
        for name in columns:
            if name.startswith("_"):
                raise ValueError(f"column {name!r}: names starting with '_' are the platform's")
        return columns

    @model_validator(mode="after")
    def _references_exist(self) -> Contract:
        def need(what: str, name: str, types: tuple[str, ...] | None = None) -> None:
            if name not in self.columns:
                raise ValueError(f"{what} {name!r} is not a declared column")
            if types and self.columns[name].type not in types:
                raise ValueError(f"{what} {name!r} must be of type {' or '.join(types)}")

        for name, column in self.columns.items():
            if column.renamed_from is not None and column.renamed_from in self.columns:
                raise ValueError(
                    f"column {name!r}: renamed_from {column.renamed_from!r} is still declared"
                )
        for name in self.key:
            need("key column", name)
            if self.columns[name].nullable:
                raise ValueError(f"key column {name!r} cannot be nullable")
            if self.columns[name].deidentify not in (None, "hash"):
                raise ValueError(
                    f"key column {name!r} is personal: only `action: hash` keeps it a key "
                    "(the same value, the same hash)"
                )
        if len(set(self.key)) != len(self.key):
            raise ValueError("key columns must be distinct")
        if self.mode == "upsert" and not self.key:
            raise ValueError("mode upsert needs a key: which row does a later upload replace?")
        if self.duplicates == "allow" and self.mode != "append":
            raise ValueError("duplicates: allow is for mode append (upsert replaces by key)")
        if self.duplicates == "allow" and not self.key:
            raise ValueError("duplicates: allow needs a key (without one nothing is checked)")
        if self.delete_marker is not None:
            if self.mode != "upsert":
                raise ValueError("delete_marker needs mode upsert (a delete removes a key)")
            if self.delete_marker in self.columns:
                raise ValueError(
                    f"delete_marker {self.delete_marker!r} is a declared column: name an upload "
                    "column the contract does not declare"
                )
        for name in self.text:
            need("text column", name, ("string",))
        if self.label is not None:
            need("label column", self.label.column, ("string",))
            allowed = self.columns[self.label.column].allowed
            if allowed is not None and set(map(str, allowed)) != set(self.label.classes):
                raise ValueError(
                    f"label column {self.label.column!r}: its allowed values differ from the "
                    f"label's classes {list(self.label.classes)}"
                )
        if self.target is not None:
            numeric = ("integer", "float") if self.target.task == "regression" else None
            need("target column", self.target.column, numeric)
        if self.searches and not self.text:
            raise ValueError("searches need text columns to search (declare `text:`)")
        for name in self.drift.columns:
            need("drift column", name)
        for env, environment in self.environments.items():
            if not re.match(NAME, env) or env == TRAINING:
                raise ValueError(
                    f"environment {env!r}: a snake_case folder name other than {TRAINING!r}"
                )
            for name in environment.without:
                need(f"environment {env}: column", name)
                if name in self.key:
                    raise ValueError(f"environment {env}: the key column {name!r} is required")
        return self

    # -- what the layers ask ---------------------------------------------------------------
    @property
    def personal(self) -> dict[str, str]:
        """Personal columns -> how staged holds them (hash, redact, generalise, scrub, drop)."""
        return {n: c.deidentify for n, c in self.columns.items() if c.deidentify}

    def environment_of(self, partition: str) -> str:
        """The environment of an upload: its first folder if that names a declared one."""
        first = partition.split("/", 1)[0] if "/" in partition else ""
        return first if first in self.environments else TRAINING

    def in_environment(self, environment: str) -> Contract:
        """The contract an upload of `environment` is read by: its `without` columns may be
        absent (they are null in staged)."""
        spec = self.environments.get(environment)
        if spec is None or not spec.without:
            return self
        columns = {
            name: column.model_copy(update={"nullable": True}) if name in spec.without else column
            for name, column in self.columns.items()
        }
        return self.model_copy(update={"columns": columns})

    @property
    def renames(self) -> dict[str, str]:
        """Former column name -> current name, for columns declared with `renamed_from`."""
        return {c.renamed_from: n for n, c in self.columns.items() if c.renamed_from}

    @property
    def id_column(self) -> str:
        """The column that identifies a record: the key if it is one column, else derived."""
        return self.key[0] if len(self.key) == 1 else RECORD_ID

    @property
    def text_column(self) -> str | None:
        """The column holding a record's text: the text column, or `_text` if several."""
        if not self.text:
            return None
        return self.text[0] if len(self.text) == 1 else TEXT

    def text_expr(self) -> pl.Expr:
        """A record's text (embedded, searched): its text columns, joined by newlines."""
        import polars as pl

        if not self.text:
            raise ValueError(f"dataset {self.name} declares no text columns")
        if len(self.text) == 1:
            return pl.col(self.text[0])
        joined = pl.concat_str([pl.col(c) for c in self.text], separator="\n", ignore_nulls=True)
        return joined.alias(TEXT)

    def display_expr(self) -> pl.Expr:
        """What a person reads to label a record: its text, or `column: value` lines."""
        import polars as pl

        if self.text:
            return self.text_expr().alias("text")
        label = self.label_column
        shown = [n for n in self.columns if n != label]
        parts = [pl.format(f"{n}: {{}}", pl.col(n).cast(pl.String).fill_null("")) for n in shown]
        return pl.concat_str(parts, separator="\n").alias("text")

    @property
    def label_column(self) -> str | None:
        return self.label.column if self.label else None

    @property
    def classes(self) -> tuple[str, ...]:
        return self.label.classes if self.label else ()

    @property
    def has_text(self) -> bool:
        return bool(self.text)

    @property
    def has_labels(self) -> bool:
        return self.label is not None

    @property
    def has_target(self) -> bool:
        return self.target is not None

    @property
    def dtypes(self) -> dict[str, pl.DataType]:
        """Each declared column's polars type, in declaration order."""
        return {name: column.dtype for name, column in self.columns.items()}

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of everything the contract says: which contract a table was built by."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def table(self, layer: str) -> str:
        """The Iceberg table of this dataset in `layer`, e.g. `staged.reviews`."""
        return f"{layer}.{self.name}"

    def asset_key(self, *layer: str) -> dg.AssetKey:
        """The asset of this dataset in `layer`, e.g. `staged/reviews`, `labeling/queue/reviews`:
        the one place an asset key is spelled (the layer is the Iceberg namespace)."""
        import dagster as dg  # the contracts load without Dagster (the CLI, contract checks)

        return dg.AssetKey([*layer, self.name])

    def landing_prefix(self, landing_root: str) -> str:
        """Where uploads of this dataset land: `<landing_root><name>/`."""
        return f"{landing_root.rstrip('/')}/{self.name}/"

    def as_yaml_data(self) -> dict[str, Any]:
        """The contract as plain data, in the order a person reads it (for YAML)."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["columns"] = {
            name: column.model_dump(mode="json", exclude_defaults=True)
            for name, column in self.columns.items()
        }
        order = [
            "name",
            "version",
            "description",
            "key",
            "mode",
            "duplicates",
            "delete_marker",
            "delete_value",
            "text",
            "label",
            "target",
            "columns",
            "searches",
            "drift",
            "environments",
        ]
        data.setdefault("version", self.version)
        data.setdefault("key", list(self.key))
        data.setdefault("text", list(self.text))
        return {k: data[k] for k in order if k in data}
