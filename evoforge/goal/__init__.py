"""Goals: what a person defines (task, objectives, constraints, budget, search, oversight), validated."""

from evoforge.goal._load import goal_from_dict, goal_from_json, load_goal
from evoforge.goal._schema import Budget, Constraint, Evaluation, Goal, Oversight, Preference, Schedule, Search

__all__ = [
    "Budget",
    "Constraint",
    "Evaluation",
    "Goal",
    "Oversight",
    "Preference",
    "Schedule",
    "Search",
    "goal_from_dict",
    "goal_from_json",
    "load_goal",
]
