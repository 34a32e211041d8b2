"""The farm's front doors: the command line, the REST API and the operator dashboard."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("slicefarm")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
