"""Studies: a composition of parts (task, space, proposer, scheduler, executor, store) and the loop that moves work
between them: propose, evaluate, record, promote on evidence, and resume from the store."""

from evoforge.study._history import proposal_infos
from evoforge.study._loop import Coordinator, RunReport
from evoforge.study._promotion import Champion, Gate, evidence_seeds, held_out, trial_seed
from evoforge.study._run import run_study
from evoforge.study._setup import Setup, prepare
from evoforge.study._study import Study, open_study
from evoforge.study._views import find_study, lineage_view, status_view, trial_row

__all__ = [
    "Champion",
    "Coordinator",
    "Gate",
    "RunReport",
    "Setup",
    "Study",
    "evidence_seeds",
    "find_study",
    "held_out",
    "lineage_view",
    "open_study",
    "prepare",
    "proposal_infos",
    "run_study",
    "status_view",
    "trial_row",
    "trial_seed",
]
