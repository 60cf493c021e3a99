"""The raw layer."""
