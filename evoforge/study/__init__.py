"""Studies: the loop that proposes, evaluates, records and promotes, and resumes from the store."""

from evoforge.study._loop import Coordinator, RunReport, open_study, run_study, trial_seed
from evoforge.study._promotion import Champion, promotion_reason
from evoforge.study._setup import Setup, prepare
from evoforge.study._views import find_study, lineage_view, status_view, trial_row

__all__ = [
    "Champion",
    "Coordinator",
    "RunReport",
    "Setup",
    "find_study",
    "lineage_view",
    "open_study",
    "prepare",
    "promotion_reason",
    "run_study",
    "status_view",
    "trial_row",
    "trial_seed",
]
