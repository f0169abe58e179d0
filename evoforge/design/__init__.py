"""Designs: immutable, content-hashed genotypes with a readable diff."""

from evoforge.design._design import Design, diff_designs

__all__ = ["Design", "diff_designs"]
