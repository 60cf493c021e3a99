"""Reading contracts from YAML, with errors that name the file, the line and the field.

Contracts live one per file in the datasets folder (`datasets/<name>.yaml` by default,
`DP_DATASETS_DIR` elsewhere). A broken file fails loudly, one line per problem, e.g.
``datasets/flights.yaml:14: columns.dep_delay.type: Input should be 'integer', ...``.
A broken file is that dataset's problem: `scan_contracts` returns the others beside it,
and `load_dataset` reads only the file of the dataset asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from data_platform.contracts.model import Contract

SUFFIXES = (".yaml", ".yml")


class ContractError(ValueError):
    """A contract file that cannot be read or does not describe a valid dataset.

    Its message is one line per problem, each `<file>:<line>: <field>: <what is wrong>`.
    """


@dataclass(frozen=True)
class ContractScan:
    """The datasets folder read file by file: the valid contracts, and each broken file's
    error (a broken file takes only its own dataset out)."""

    contracts: tuple[Contract, ...]
    errors: tuple[ContractError, ...]

    def check(self) -> tuple[Contract, ...]:
        """The contracts, or one ContractError naming every broken file."""
        if self.errors:
            raise ContractError("\n".join(str(error) for error in self.errors))
        return self.contracts


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
    """Every contract in `folder`, sorted by name (an absent folder has none); one
    ContractError naming every broken file if any is."""
    return scan_contracts(folder).check()


def scan_contracts(folder: Path) -> ContractScan:
    """Every file in `folder` read on its own: the valid contracts sorted by name, and the
    error of each file that is not one (an absent folder has neither)."""
    if not folder.is_dir():
        return ContractScan((), ())
    contracts: dict[str, Contract] = {}
    errors: list[ContractError] = []
    seen: dict[str, Path] = {}
    for path in contract_files(folder):
        try:
            contract = load_contract(path)
        except ContractError as exc:
            errors.append(exc)
            continue
        if contract.name in contracts:  # reviews.yaml and reviews.yml
            errors.append(ContractError(_twice(path, contract.name, seen[contract.name])))
            continue
        contracts[contract.name] = contract
        seen[contract.name] = path
    return ContractScan(tuple(contracts[name] for name in sorted(contracts)), tuple(errors))


def load_dataset(folder: Path, name: str) -> Contract:
    """The contract of dataset `name`, read from its own file only (another broken file
    does not matter); ContractError if it is broken, KeyError listing the known ones if
    there is none."""
    files = contract_files(folder) if folder.is_dir() else []
    own = [path for path in files if path.stem == name]
    if not own:
        listed = ", ".join(sorted({path.stem for path in files})) or "none"
        raise KeyError(f"unknown dataset {name!r}; declared datasets: {listed}")
    if len(own) > 1:
        raise ContractError(_twice(own[1], name, own[0]))
    return load_contract(own[0])


def contract_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def find(contracts: Iterable[Contract], name: str) -> Contract:
    """The contract called `name`; KeyError listing the known ones otherwise."""
    known = {c.name: c for c in contracts}
    if name not in known:
        listed = ", ".join(sorted(known)) or "none"
        raise KeyError(f"unknown dataset {name!r}; declared datasets: {listed}")
    return known[name]


def _twice(path: Path, name: str, first: Path) -> str:
    return f"{path}:1: name: dataset {name!r} is declared twice (also in {first.name})"


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
