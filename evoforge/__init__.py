"""evoforge: AI that designs improved versions of AI models, with every step recorded.

A person writes a goal (task, objectives, constraints, budget); evoforge proposes designs, trains and measures them
in parallel, and promotes better ones to be the next generation's champion.
"""

from evoforge._errors import EvoforgeError, GoalError, StorageError
from evoforge.design import Design
from evoforge.goal import Goal, goal_from_dict, load_goal
from evoforge.objective import StudyResult, Trial, TrialPruned, optimize
from evoforge.storage import Store
from evoforge.study import RunReport, Study, run_study

__version__ = "0.1.0"

__all__ = [
    "Design",
    "EvoforgeError",
    "Goal",
    "GoalError",
    "RunReport",
    "StorageError",
    "Store",
    "Study",
    "StudyResult",
    "Trial",
    "TrialPruned",
    "goal_from_dict",
    "load_goal",
    "optimize",
    "run_study",
]
