"""eudr_check: plot-by-plot evidence that coffee and cocoa are deforestation-free under the EUDR."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("eudr-check")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
