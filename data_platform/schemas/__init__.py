"""Pandera schemas, built from dataset contracts: one module per layer."""

from data_platform.schemas.staged import staged_schema

__all__ = ["staged_schema"]
