"""Pandera models of the staged tables, one module per dataset."""
