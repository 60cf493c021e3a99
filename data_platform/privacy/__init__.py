"""Personal data: de-identified before it spreads (staged onwards), found in samples, keyed."""
