"""Models made and shipped by the project (no downloads).

    from mcusparse import models
    models.bundled("digits_sparse90.tflite")   # Path in the repository's models/
    from mcusparse.models import digits        # how they are made: digits.train_digits(...)

`bundled(name)` finds a file of the repository's `models/` folder (written by
`python -m mcusparse.models.digits --out models/`, see models/README.md); the
MCUSPARSE_MODELS environment variable points at another folder.
"""
from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = "digits_sparse90.tflite"


def models_dir() -> Path:
    env = os.environ.get("MCUSPARSE_MODELS")
    if env:
        return Path(env)
    # python/mcusparse/models/__init__.py -> repository root
    return Path(__file__).resolve().parents[3] / "models"


def bundled(name: str = DEFAULT_MODEL) -> Path:
    """Path of a bundled model or data file; FileNotFoundError if it is missing."""
    path = models_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: bundled model file not found (regenerate with "
                                "`.venv/bin/python -m mcusparse.models.digits --out models/`)")
    return path


__all__ = ["DEFAULT_MODEL", "bundled", "models_dir"]
