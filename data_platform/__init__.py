"""data_platform: an ML data lakehouse on Dagster."""

__version__ = "0.1.0"
