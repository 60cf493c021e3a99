"""The inference layer: predictions, and the executor benchmark."""
