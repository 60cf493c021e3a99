"""The transformed layer."""
