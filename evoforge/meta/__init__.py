"""Self-tuning: evoforge's own search tunes the search's settings on tabular benchmark problems
(``evoforge meta``) and saves the result as a named profile."""

from evoforge.meta._run import meta_goal, run_meta
from evoforge.meta._space import CHOICES, ProfileSpace, settings_of
from evoforge.meta._suite import PROBLEMS, benchmark, run_inner

__all__ = ["CHOICES", "PROBLEMS", "ProfileSpace", "benchmark", "meta_goal", "run_inner", "run_meta", "settings_of"]
