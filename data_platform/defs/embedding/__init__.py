"""The embedded layer: sentence embeddings in LanceDB and Iceberg."""
