"""Data layer: the alliance schema, file sources, the embedded store, datasets and the demo scenario."""
