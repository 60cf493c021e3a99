"""Know your data: a profile of every upload (mergeable sketches) and drift against a reference."""
