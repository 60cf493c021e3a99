"""Reading contracts from YAML, with errors that name the file, the line and the field.

Contracts live one per file in the datasets folder (`datasets/<name>.yaml` by default,
`DP_DATASETS_DIR` elsewhere). A broken file fails loudly, e.g.
``datasets/flights.yaml:14: columns.dep_delay.type: Input should be 'integer', ...``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from data_platform.contracts.model import Contract

SUFFIXES = (".yaml", ".yml")


class ContractError(ValueError):
    """A contract file that cannot be read or does not describe a valid dataset."""


def load_contract(path: Path) -> Contract:
    """The contract in `path`; raises ContractError naming the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read the contract: {exc}") from None
    return parse_contract(text, str(path), expected_name=path.stem)


def parse_contract(text: str, source: str, expected_name: str | None = None) -> Contract:
    """Parse and validate one contract's YAML `text` (`source` names it in errors)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(f"{source}{line}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ContractError(f"{source}:1: a contract is a mapping (name:, columns:, ...)")
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        messages = [_describe(source, node, error) for error in exc.errors()]
        raise ContractError("\n".join(messages)) from None
    if expected_name is not None and contract.name != expected_name:
        raise ContractError(
            f"{source}:{_line(node, ('name',))}: name: {contract.name!r} differs from the file "
            f"name; a contract lives in <name>.yaml"
        )
    return contract


def load_contracts(folder: Path) -> tuple[Contract, ...]:
    """Every contract in `folder`, sorted by name (an absent folder has none)."""
    if not folder.is_dir():
        return ()
    contracts = [load_contract(path) for path in contract_files(folder)]
    return tuple(sorted(contracts, key=lambda c: c.name))


def load_dataset(folder: Path, name: str) -> Contract:
    """The contract of dataset `name` in `folder`; KeyError listing the known ones."""
    return find(load_contracts(folder), name)


def contract_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def find(contracts: Iterable[Contract], name: str) -> Contract:
    """The contract called `name`; KeyError listing the known ones otherwise."""
    known = {c.name: c for c in contracts}
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise KeyError(f"unknown dataset {name!r}; declared datasets: {listed}")
    return known[name]


SECTIONS = {"key column": "key", "text column": "text", "label": "label", "target": "target"}


def _describe(source: str, node: yaml.Node | None, error: ErrorDetails) -> str:
    loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
    message = error["msg"].removeprefix("Value error, ")
    if not loc:  # a rule across fields: point at the section the message is about
        section = next((s for prefix, s in SECTIONS.items() if message.startswith(prefix)), None)
        loc = (section,) if section else ()
    field = ".".join(str(p) for p in loc) or "(contract)"
    return f"{source}:{_line(node, loc)}: {field}: {message}"


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest YAML node on the path `loc`."""
    if node is None:
        return 1
    line = node.start_mark.line + 1
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part < len(node.value):
                child = node.value[part]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
