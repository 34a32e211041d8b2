"""Sample data shipped with slicefarm: printer and material profiles, models, a demo farm."""

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent


def sample_path(*parts: str) -> Path:
    """Path of a file or folder inside the shipped samples, e.g. ``sample_path("models")``."""
    return SAMPLES_DIR.joinpath(*parts)
