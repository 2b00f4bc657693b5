"""Runtime and platform adapters: the only package that imports telegram or discord."""
