"""The staged layer."""
