"""Errors meant for people: one line that names what is wrong."""

from __future__ import annotations


class EvoforgeError(Exception):
    """Base class of errors that the CLI prints as one line and exits with code 2."""


class GoalError(EvoforgeError):
    """A goal (file or Python value) is malformed, names something unknown, or cannot be met."""


class StorageError(EvoforgeError):
    """A storage URL cannot be opened, or the store does not hold what was asked for."""
