"""Schedulers decide whether a running trial keeps training (multi-fidelity): they never propose or run anything."""

from evoforge.schedulers._asha import ASHAScheduler, HyperbandScheduler
from evoforge.schedulers._base import FullScheduler, Scheduler, milestones
from evoforge.schedulers._registry import SCHEDULER_PARTS, SCHEDULERS, make_scheduler

__all__ = [
    "SCHEDULERS",
    "SCHEDULER_PARTS",
    "ASHAScheduler",
    "FullScheduler",
    "HyperbandScheduler",
    "Scheduler",
    "make_scheduler",
    "milestones",
]
