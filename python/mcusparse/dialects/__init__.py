"""MLIR dialects defined by mcusparse."""
