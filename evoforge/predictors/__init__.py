"""Learned models of a study's results: what a design will score, with calibrated uncertainty, and how to choose
among candidates with it (acquisition functions). Predictors never train models or propose designs."""

from evoforge.predictors._acquisition import (
    ACQUISITIONS,
    acquire,
    expected_improvement,
    spearman,
    thompson,
    upper_confidence_bound,
)
from evoforge.predictors._gp import Fit, GaussianProcess

__all__ = [
    "ACQUISITIONS",
    "Fit",
    "GaussianProcess",
    "acquire",
    "expected_improvement",
    "spearman",
    "thompson",
    "upper_confidence_bound",
]
