"""Component types of the code location, instantiated by `defs.yaml` files under `defs/`."""
