"""The store: studies, designs, trials, lineage, generations and an append-only event log, via SQLAlchemy."""

from evoforge.storage._records import (
    FINISHED_STATES,
    TRIAL_STATES,
    UNCHARGED_STATES,
    EventRecord,
    GenerationRecord,
    NewGeneration,
    StudyRecord,
    TrialRecord,
)
from evoforge.storage._store import Store

__all__ = [
    "FINISHED_STATES",
    "UNCHARGED_STATES",
    "TRIAL_STATES",
    "EventRecord",
    "GenerationRecord",
    "NewGeneration",
    "Store",
    "StudyRecord",
    "TrialRecord",
]
