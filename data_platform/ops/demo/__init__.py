"""The demo: sample uploads, the main job on the embedded stack, a summary."""
