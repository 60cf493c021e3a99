"""Dagster objects only: assets, checks, sensors, jobs, resource bindings."""
