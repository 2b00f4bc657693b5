"""The default config.yaml and the bundled snapshot (data/), found through the package.

The repository keeps both at its top level (the design card's layout) as the source of
truth; this package holds relative symlinks to them. setuptools copies what they point to
into the wheel as package data, so an installed flowwatch finds both beside its code, from
any working directory, and a source checkout (editable install) reads the top-level files.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_dir() -> Path:
    # pip installs wheels unzipped, so the package's resources are plain files on disk.
    return Path(str(files(__name__)))


def default_config() -> Path:
    """The config.yaml used when no --config is given."""
    return _package_dir() / "config.yaml"


def snapshot_dir() -> Path:
    """The bundled snapshot replay mode reads (CSV series and their README)."""
    return _package_dir() / "data"
