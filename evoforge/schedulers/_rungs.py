"""Judging a trial that reports from inside its run (an objective's ``trial.report``), where it runs: at each rung
it reaches, the study's scheduler is rebuilt from the reports in the store (its state is its reports) and judges the
value, and the report with the decision is recorded in the same transaction, so trials reaching a rung together are
judged one after the other. A trial re-run after a crash gets the decision made at that rung before."""

from __future__ import annotations

from typing import Any

from evoforge.schedulers._registry import make_scheduler


class RungReporter:
    """``reporter(step, value) -> bool`` for trial ``number`` of study ``study``: True while it goes on.

    ``schedule``: the goal's ``scheduler`` section (JSON); ``direction``: ``max`` or ``min``, how the scheduler's
    metric is judged (values are oriented so that higher is better before the scheduler sees them).
    """

    def __init__(self, url: str, study: int, number: int, schedule: dict[str, Any], direction: str) -> None:
        from evoforge.goal import Schedule

        self.url, self.study, self.number, self.direction = url, study, number, direction
        self.schedule = Schedule.model_validate(schedule)
        self.judged = 0  # the last rung judged

    def __call__(self, step: int, value: float) -> bool:
        scheduler = make_scheduler(self.schedule)
        rung, due = self.judged, None
        while (after := scheduler.rung_after(self.number, rung)) is not None and after <= step:
            rung = due = after  # the last rung this step has reached, if several: judged once, there
        if due is None:
            return True
        self.judged = due
        oriented = value if self.direction == "max" else -value
        payload = {"epoch": due, "step": step, "value": oriented, "metrics": {self.schedule.metric: value}}
        return self._store().judge_report(self.study, self.number, due, payload, self._decide)

    def _decide(self, reports: list[tuple[int, int, float]], epoch: int, value: float) -> bool:
        scheduler = make_scheduler(self.schedule)
        for number, at, earlier in reports:
            scheduler.report(number, at, earlier)
        return scheduler.report(self.number, epoch, value)

    def _store(self) -> Any:
        from evoforge.storage import Store

        return _stores.setdefault(self.url, Store(self.url, create=False))


_stores: dict[str, Any] = {}  # one store per URL in a worker process
