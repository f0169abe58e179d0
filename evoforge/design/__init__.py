"""Designs: immutable, content-hashed genotypes with a readable diff."""

from evoforge.design._design import Design, describe, diff_designs

__all__ = ["Design", "describe", "diff_designs"]
