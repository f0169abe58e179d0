"""The store: studies, designs, trials, lineage, generations and an append-only event log, via SQLAlchemy."""

from evoforge.storage._records import (
    FINISHED_STATES,
    OPEN_PROMOTION_STATES,
    PROMOTION_STATES,
    TRIAL_STATES,
    UNCHARGED_STATES,
    EventRecord,
    GenerationRecord,
    NewGeneration,
    PromotionRecord,
    Replicate,
    StudyRecord,
    TrialRecord,
)
from evoforge.storage._retry import StoreUnavailable
from evoforge.storage._store import Store

__all__ = [
    "FINISHED_STATES",
    "OPEN_PROMOTION_STATES",
    "PROMOTION_STATES",
    "UNCHARGED_STATES",
    "TRIAL_STATES",
    "EventRecord",
    "GenerationRecord",
    "NewGeneration",
    "PromotionRecord",
    "Replicate",
    "Store",
    "StoreUnavailable",
    "StudyRecord",
    "TrialRecord",
]
