"""Streaming a table pinned to a tag or snapshot into training, without copying the lake.

`TrainingStream` gives shuffled, sharded, resumable Arrow record batches read file by file
from the bucket; `LakeIterableDataset` wraps it for PyTorch's DataLoader (import it from
`data_platform.training.torch_dataset`, so Arrow users do not import torch);
`record_training_input` puts the snapshot id into the training run's metadata.
"""

from data_platform.training.lineage import record_training_input
from data_platform.training.plan import Shard
from data_platform.training.stream import Position, TrainingStream

__all__ = ["Position", "Shard", "TrainingStream", "record_training_input"]
