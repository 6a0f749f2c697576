"""lsbanalysis: the omgevingsanalyse behind a Flemish lokaal sociaal beleidsplan."""

__version__ = "0.1.0"

from lsbanalysis.dataset import Dataset, load  # noqa: E402

__all__ = ["Dataset", "load", "__version__"]
