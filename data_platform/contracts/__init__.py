"""Dataset contracts: datasets declared as YAML, every layer built from the declaration."""

from data_platform.contracts.columns import RECORD_ID, TEXT
from data_platform.contracts.loader import (
    ContractError,
    ContractScan,
    find,
    load_contract,
    load_contracts,
    load_dataset,
    parse_contract,
    scan_contracts,
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
    "ContractScan",
    "Label",
    "SavedSearch",
    "Target",
    "find",
    "load_contract",
    "load_contracts",
    "load_dataset",
    "parse_contract",
    "scan_contracts",
]
