"""Your own objective: a function that takes a ``Trial``, asks for its parameters with Optuna's names
(``suggest_float``, ``suggest_int``, ``suggest_categorical``), trains with ``trial.seed``, reports intermediate values
(``report`` / ``should_prune``) and returns its metrics. ``optimize`` searches it; a goal file names it as
``task: {name: python, objective: "module:function"}``. The rest of evoforge sees it as a task and a space."""

from evoforge.objective._optimize import FrozenTrial, StudyResult, load_result, optimize
from evoforge.objective._space import ParamSpace
from evoforge.objective._task import PythonTask
from evoforge.objective._trial import Trial, TrialPruned

__all__ = ["FrozenTrial", "ParamSpace", "PythonTask", "StudyResult", "Trial", "TrialPruned", "load_result", "optimize"]
