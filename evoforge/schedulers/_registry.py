from __future__ import annotations

from typing import TYPE_CHECKING

from evoforge._registry import Registry
from evoforge.schedulers._base import Scheduler

if TYPE_CHECKING:
    from evoforge.goal import Schedule

# name -> "module:Class"; a goal may also name any Scheduler subclass by import path or by an entry point in the
# group ``evoforge.schedulers``.
SCHEDULERS = {
    "none": "evoforge.schedulers._base:FullScheduler",
    "asha": "evoforge.schedulers._asha:ASHAScheduler",
    "hyperband": "evoforge.schedulers._asha:HyperbandScheduler",
}
SCHEDULER_PARTS = Registry("scheduler", "scheduler.name", Scheduler, SCHEDULERS)


def make_scheduler(schedule: Schedule) -> Scheduler:
    """The scheduler a goal's ``scheduler`` section names, configured from that section."""
    return SCHEDULER_PARTS.load(schedule.name).from_schedule(schedule)  # type: ignore[attr-defined, no-any-return]
