"""Domain layer: sources, metrics, store, collector. Never imports telegram or discord."""
