"""Pure logic (no Dagster): parsing, cleaning, features, generators, kernels."""
