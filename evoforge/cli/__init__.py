"""The ``evoforge`` command line."""

from evoforge.cli._main import main, parser

__all__ = ["main", "parser"]
