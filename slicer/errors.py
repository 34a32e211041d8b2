"""The slicer's exception tree: every message names the file or setting and the problem."""

from __future__ import annotations


class SliceError(Exception):
    """Base of everything the slicer raises on bad input; the CLI maps it to exit code 2."""


class MeshError(SliceError):
    """A model file that cannot be read, is not a mesh, or has no printable volume."""

    def __init__(self, path: object, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # picklable across processes
        return (type(self), (self.path, self.problem))


class SettingsError(SliceError):
    """A slice setting that is unknown or out of range; ``key`` names it."""

    def __init__(self, key: str, problem: str):
        self.key = key
        self.problem = problem
        super().__init__(f"setting '{key}': {problem}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:  # picklable across processes
        return (type(self), (self.key, self.problem))


class PlateError(SliceError):
    """Parts that do not fit on the bed; the message names the part and the bed size."""
