"""profiles/<name> and staged's drift check: what each upload looks like, and how it moved."""
