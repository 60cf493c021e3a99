"""The `data-platform` command line."""
