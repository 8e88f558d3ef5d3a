"""The ``synthcase`` command line (a thin layer over the library)."""

from synthcase.cli.app import app, main

__all__ = ["app", "main"]
