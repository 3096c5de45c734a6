"""tryon: batch virtual try-on over catalogues (library; knows nothing of Prefect)."""

__version__ = "0.1.0"
