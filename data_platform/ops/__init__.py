"""Tools for people, never imported by the code location: the CLI, the local stack
launcher (S3 store, Label Studio, Ray cluster, dagster dev), the demo, the in-process runner."""
