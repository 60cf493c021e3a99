"""Dataset contracts: datasets declared as YAML, every layer built from the declaration."""

from data_platform.contracts.columns import RECORD_ID, TEXT
from data_platform.contracts.loader import (
    ContractError,
    find,
    load_contract,
    load_contracts,
    load_dataset,
    parse_contract,
)
from data_platform.contracts.model import (
    Column,
    Contract,
    Label,
    SavedSearch,
    Target,
)

__all__ = [
    "RECORD_ID",
    "TEXT",
    "Column",
    "Contract",
    "ContractError",
    "Label",
    "SavedSearch",
    "Target",
    "find",
    "load_contract",
    "load_contracts",
    "load_dataset",
    "parse_contract",
]
