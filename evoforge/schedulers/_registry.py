from __future__ import annotations

from typing import TYPE_CHECKING

from evoforge.schedulers._asha import ASHAScheduler, HyperbandScheduler
from evoforge.schedulers._base import FullScheduler, Scheduler

if TYPE_CHECKING:
    from evoforge.goal import Schedule


def make_scheduler(schedule: Schedule) -> Scheduler:
    """The scheduler a goal's ``scheduler`` section names."""
    if schedule.name == "asha":
        return ASHAScheduler(schedule.min_epochs, schedule.eta)
    if schedule.name == "hyperband":
        return HyperbandScheduler(schedule.min_epochs, schedule.eta, schedule.brackets)
    return FullScheduler()
