"""Servers the platform starts by itself: the embedded S3 store (and later others)."""
