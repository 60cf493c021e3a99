"""`labeled/<dataset>`: labels synced from the labeling tool, with label quality checks."""
