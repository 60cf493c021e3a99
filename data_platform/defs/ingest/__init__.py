"""Ingestion: each upload through raw, staged and transformed in one straight step."""
