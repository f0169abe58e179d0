"""Pareto fronts of objective vectors (every objective oriented so that higher is better): non-dominated sorting,
crowding distance and the hypervolume a front dominates."""

from evoforge.pareto._front import Front, crowding_distance, dominates, non_dominated_sort
from evoforge.pareto._hypervolume import hypervolume

__all__ = ["Front", "crowding_distance", "dominates", "hypervolume", "non_dominated_sort"]
