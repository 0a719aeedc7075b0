// Removed once the layer has real sources.
