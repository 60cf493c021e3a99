"""Dataset declarations: adding a dataset to the lake is adding one declaration here."""

from data_platform.datasets.registry import DATASETS, get_dataset
from data_platform.datasets.spec import DatasetSpec

__all__ = ["DATASETS", "DatasetSpec", "get_dataset"]
