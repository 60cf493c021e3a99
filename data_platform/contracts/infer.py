"""Proposing a contract from a sample: types, nullability, a key, text, a label, rules.

`infer_contract(frame, name)` looks at a sample (text columns as read from a CSV, or the
typed columns of Parquet and JSON Lines) and returns a `Proposal`: the contract and, for
each decision, the reason in one line, so `datasets init` can say what it inferred and
why, and write both into the YAML for the person who edits it next.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any, cast

import polars as pl
from polars.datatypes import DataTypeClass

from data_platform.contracts.model import (
    DATETIME_FORMATS,
    NAME,
    Column,
    Contract,
    date_from_text,
)
from data_platform.privacy.detect import likely_personal

TRUE = {"true", "false", "t", "f", "yes", "no", "y", "n"}
ID_NAME = re.compile(r"(^|_)(id|key|uuid|code)$", re.IGNORECASE)
LABEL_NAME = re.compile(
    r"(label|class|category|priority|status|type|kind|grade|sentiment)", re.IGNORECASE
)
MAX_CLASSES = 20
MAX_KEY_COLUMNS = 4
KEY_SAMPLE_ROWS = 50_000


@dataclass
class Proposal:
    """An inferred contract and why each part of it was proposed."""

    contract: Contract
    reasons: dict[str, str] = field(default_factory=dict)  # column or section -> why


def snake(name: str) -> str:
    """A valid dataset name from a file name: lower case, `_` for anything else."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "dataset"
    cleaned = cleaned if cleaned[0].isalpha() else f"d_{cleaned}"
    return cleaned[:63] if re.match(NAME, cleaned[:63]) else "dataset"


def personal_reasons(proposal: Proposal) -> dict[str, str]:
    """Column -> why it looks personal (for the CLI to say)."""
    return {k.removeprefix("pii:"): v for k, v in proposal.reasons.items() if k.startswith("pii:")}


def infer_contract(frame: pl.DataFrame, name: str, source: str = "") -> Proposal:
    """A contract for `frame`'s columns (a sample of uploads), with the reasons."""
    reasons: dict[str, str] = {}
    columns: dict[str, Column] = {}
    rows = frame.height
    for column in frame.columns:
        values = frame.get_column(column)
        inferred, why = _column(values)
        columns[column] = inferred
        reasons[column] = why
    key, key_why = _key(frame, columns)
    reasons["key"] = key_why
    text, text_why = _text(frame, columns, key)
    reasons["text"] = text_why
    label, label_why = _label(frame, columns, key, text)
    reasons["label"] = label_why
    mode, reasons["mode"] = _mode(columns, key)
    for name_, spec in list(columns.items()):
        if name_ in key and spec.nullable:
            columns[name_] = spec.model_copy(update={"nullable": False})
    if label:
        columns[label[0]] = columns[label[0]].model_copy(update={"allowed": tuple(label[1])})
    contract = Contract.model_validate(
        {
            "name": name,
            "version": 1,
            "description": f"Inferred from {source or 'a sample'} ({rows:,} rows).",
            "key": key,
            "mode": mode,
            "text": text,
            "label": {"column": label[0], "classes": label[1]} if label else None,
            "target": {"column": label[0], "task": "classification"} if label else None,
            "columns": {n: c.model_dump(exclude_defaults=True) for n, c in columns.items()},
        }
    )
    for name_ in columns:
        personal = likely_personal(name_, frame.get_column(name_), name_ in text)
        if personal is not None:
            kind, why = personal
            reasons[f"pii:{name_}"] = (
                f"likely personal ({why}): add `pii: {kind}` to de-identify it from staged on"
            )
    reasons["target"] = (
        f"the label {label[0]!r}, as a classification target (inference/{name} predicts it)"
        if label
        else "none proposed: set `target: {column: ..., task: classification|regression}`"
    )
    return Proposal(contract, reasons)


# -- columns -----------------------------------------------------------------------------
def _column(values: pl.Series) -> tuple[Column, str]:
    nulls = values.null_count()
    if values.dtype == pl.String:
        values = values.str.strip_chars().replace("", None)
        nulls = values.null_count()
    present = values.drop_nulls()
    kind, extra, why = _type_of(values, present)
    fields: dict[str, Any] = {"type": kind, **extra}
    if nulls:
        fields["nullable"] = True
    typed = _typed(present, kind, extra)
    if (
        kind in ("integer", "float")
        and typed is not None
        and len(typed)
        and _number(typed.min()) >= 0
    ):
        fields["min"] = 0
        why += "; never negative: min 0"
    missing = f"{nulls:,} missing" if nulls else "none missing"
    return Column.model_validate(fields), f"{why}; {missing} of {len(values):,}"


def _type_of(values: pl.Series, present: pl.Series) -> tuple[str, dict[str, Any], str]:
    dtype = values.dtype
    if dtype == pl.Boolean:
        return "boolean", {}, "booleans"
    if dtype.is_integer():
        return "integer", {}, "integers"
    if dtype.is_float():
        return "float", {}, "numbers"
    if dtype == pl.Date:
        return "date", {}, "dates"
    if isinstance(dtype, pl.Datetime):
        zone = {"timezone": dtype.time_zone} if dtype.time_zone else {}
        return "datetime", zone, f"datetimes ({dtype.time_zone or 'no time zone'})"
    if isinstance(dtype, pl.List):
        return _list_of(dtype.inner)
    if dtype != pl.String:
        return "string", {}, f"{dtype} values, kept as text"
    if len(present) == 0:
        return "string", {}, "no values in the sample: text"
    lowered = present.str.to_lowercase()
    if lowered.is_in(TRUE).all():
        return "boolean", {}, "only true/false-like words"
    if present.cast(pl.Int64, strict=False).null_count() == 0:
        return "integer", {}, "all whole numbers"
    if present.cast(pl.Float64, strict=False).null_count() == 0:
        return "float", {}, "all numbers"
    if present.to_frame("v").select(date_from_text(pl.col("v"))).to_series().null_count() == 0:
        return "date", {}, "all dates (YYYY-MM-DD, or ISO datetimes at midnight)"
    for fmt, zoned in DATETIME_FORMATS:
        if present.str.to_datetime(fmt, strict=False).null_count() == 0:
            if zoned:
                return "datetime", {"timezone": "UTC"}, "datetimes with offsets: kept in UTC"
            return "datetime", {}, "datetimes without an offset (naive)"
    if present.str.starts_with("[").all() and present.str.ends_with("]").all():
        return _json_list(present)
    return "string", {}, "text"


def _list_of(inner: pl.DataType | DataTypeClass) -> tuple[str, dict[str, Any], str]:
    item = (
        "integer"
        if inner.is_integer()
        else "float"
        if inner.is_float()
        else "boolean"
        if inner == pl.Boolean
        else "string"
    )
    return "list", {"items": item}, f"lists of {item}"


def _json_list(present: pl.Series) -> tuple[str, dict[str, Any], str]:
    items: set[str] = set()
    for text in present.head(1000).to_list():
        try:
            parsed = json.loads(text)
        except ValueError:
            return "string", {}, "text (bracketed, not JSON arrays)"
        for value in parsed if isinstance(parsed, list) else []:
            items.add(
                "boolean"
                if isinstance(value, bool)
                else "integer"
                if isinstance(value, int)
                else "float"
                if isinstance(value, float)
                else "string"
            )
    item = (
        "float" if items == {"integer", "float"} else (items.pop() if len(items) == 1 else "string")
    )
    return "list", {"items": item}, f"JSON arrays of {item}"


def _typed(present: pl.Series, kind: str, extra: dict[str, Any]) -> pl.Series | None:
    """The sample's numbers, to propose rules from (None for other types)."""
    if kind == "integer":
        return present.cast(pl.Int64, strict=False).drop_nulls()
    if kind == "float":
        return present.cast(pl.Float64, strict=False).drop_nulls().drop_nans()
    return None


# -- key, text, label --------------------------------------------------------------------
def _mode(columns: dict[str, Column], key: list[str]) -> tuple[str, str]:
    """append for an event log (rows carry their own time) or no key; upsert for records
    identified by a key with no event time (each upload a newer state of the same rows)."""
    if not key:
        return "append", "append: no key, so rows can only accumulate"
    times = [n for n, c in columns.items() if c.type == "datetime"]
    if times:
        return "append", (
            f"append: rows carry a time ({times[0]!r}), like an event log; each key once "
            "across uploads (use upsert if a later upload corrects earlier rows)"
        )
    names = ", ".join(key)
    return "upsert", (
        f"upsert: rows are identified by ({names}) and carry no event time, so a later upload "
        "is a newer state of the same records: its rows replace the current ones"
    )


def _key(frame: pl.DataFrame, columns: dict[str, Column]) -> tuple[list[str], str]:
    sample = frame.head(KEY_SAMPLE_ROWS)

    def keyish(name: str, column: Column) -> bool:
        values = sample.get_column(name)
        if column.type not in ("integer", "string", "date", "datetime") or values.null_count():
            return False
        if column.type == "string" and _mean_length(values) > 40:
            return False  # prose, not an identifier
        # an integer that is nearly always different but not named like an id is a
        # measurement (a distance, a time), unique in a sample by chance
        return bool(
            ID_NAME.search(name)
            or column.type != "integer"
            or values.n_unique() <= 0.5 * sample.height
            or values.n_unique() == sample.height
        )

    candidates = [n for n, c in columns.items() if keyish(n, c)]
    candidates.sort(key=lambda n: (not ID_NAME.search(n), list(columns).index(n)))
    singles = [n for n in candidates if sample.get_column(n).n_unique() == sample.height]
    if singles:
        return [singles[0]], f"{singles[0]!r} is present and different in every row"
    pool = candidates[:12]
    for size in range(2, MAX_KEY_COLUMNS + 1):
        for combo in itertools.combinations(pool, size):
            if sample.select(pl.struct(list(combo)).n_unique()).item() == sample.height:
                names = ", ".join(combo)
                return list(combo), f"no single column is unique; ({names}) together are"
    return [], "no combination of up to 4 columns is unique: rows are identified by upload and row"


def _number(value: object) -> float:
    """A numeric column's min or mean (None: 0.0); polars types them as any Python value."""
    return float(cast(float | None, value) or 0.0)


def _mean_length(values: pl.Series) -> float:
    if values.dtype != pl.String or values.len() == 0:
        return 0.0
    return _number(values.str.len_chars().mean())


def _text(frame: pl.DataFrame, columns: dict[str, Column], key: list[str]) -> tuple[list[str], str]:
    found = []
    for name, column in columns.items():
        values = frame.get_column(name)
        if column.type != "string" or name in key or values.dtype != pl.String:
            continue
        present = values.drop_nulls()
        words = _number(present.str.count_matches(r"\S+").mean()) if len(present) else 0
        if _mean_length(present) >= 25 and words >= 4:
            found.append(name)
    if not found:
        return [], "no free-text column (none averages 25+ characters and 4+ words)"
    return found, f"{', '.join(found)}: long, many-word text: embedded and searchable"


def _label(
    frame: pl.DataFrame, columns: dict[str, Column], key: list[str], text: list[str]
) -> tuple[tuple[str, list[str]] | None, str]:
    options = []
    for name, column in columns.items():
        if column.type != "string" or name in key or name in text:
            continue
        values = frame.get_column(name).drop_nulls().cast(pl.String).str.strip_chars()
        distinct = values.n_unique()
        if 2 <= distinct <= min(MAX_CLASSES, max(frame.height // 10, 2)):
            classes = sorted(values.unique().to_list())
            options.append((not LABEL_NAME.search(name), distinct, name, classes))
    if not options:
        return None, "no low-cardinality text column: no labeling layers"
    options.sort()
    _, distinct, name, classes = options[0]
    return (name, classes), f"{name!r} has {distinct} distinct values: the classes to label"


def render_yaml(proposal: Proposal) -> str:
    """The contract as YAML a person edits, each inference explained in a comment."""
    contract, why = proposal.contract, proposal.reasons
    data = contract.as_yaml_data()

    def dump(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return json.dumps(value, ensure_ascii=False)

    lines = [
        f"# Contract of `{contract.name}`, written by `data-platform datasets init`.",
        "# Edit freely; bump `version` when you change what uploads must look like.",
        "# Column rules: type, nullable, unique, min, max, allowed, regex, min_length,",
        "# max_length, allow_non_finite (floats), timezone (datetimes), items (lists).",
        f"name: {contract.name}",
        f"version: {contract.version}",
        f"description: {dump(contract.description)}",
        f"# {why['key']}",
        f"key: {dump(list(contract.key))}",
        f"# {why['mode']}",
        f"mode: {contract.mode}",
        f"# {why['text']}",
        f"text: {dump(list(contract.text))}",
        f"# {why['label']}",
    ]
    if contract.label:
        lines += [
            "label:",
            f"  column: {dump(contract.label.column)}",
            f"  classes: {dump(list(contract.label.classes))}",
        ]
    else:
        lines.append("# label: {column: ..., classes: [...]}")
    lines.append(f"# target: {why['target']}")
    if contract.target:
        lines.append(
            f"target: {{column: {dump(contract.target.column)}, task: {contract.target.task}}}"
        )
    lines.append("columns:")
    for name, fields in data["columns"].items():
        lines.append(f"  # {why.get(name, '')}")
        if f"pii:{name}" in why:
            lines.append(f"  # {why[f'pii:{name}']}")
        rendered = ", ".join(f"{k}: {dump(v)}" for k, v in fields.items())
        lines.append(f"  {dump(name)}: {{{rendered}}}")
    return "\n".join(lines) + "\n"
