"""The store: studies, designs, trials, lineage, generations and an append-only event log, via SQLAlchemy."""

from evoforge.storage._records import (
    FINISHED_STATES,
    OPEN_PROMOTION_STATES,
    PROMOTION_STATES,
    TRIAL_STATES,
    UNCHARGED_STATES,
    Attribution,
    ChangeEffect,
    Contribution,
    EventRecord,
    Evidence,
    GenerationRecord,
    NewGeneration,
    PromotionRecord,
    PromotionState,
    Replicate,
    StudyRecord,
    TrialRecord,
    TrialState,
    held_out_name,
)
from evoforge.storage._retry import StoreUnavailable
from evoforge.storage._store import Store

__all__ = [
    "FINISHED_STATES",
    "OPEN_PROMOTION_STATES",
    "PROMOTION_STATES",
    "TRIAL_STATES",
    "UNCHARGED_STATES",
    "Attribution",
    "ChangeEffect",
    "Contribution",
    "EventRecord",
    "Evidence",
    "GenerationRecord",
    "NewGeneration",
    "PromotionRecord",
    "PromotionState",
    "Replicate",
    "Store",
    "StoreUnavailable",
    "StudyRecord",
    "TrialRecord",
    "TrialState",
    "held_out_name",
]
