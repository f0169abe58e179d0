"""The coordinator's side of the promotion gate: which challenger to judge next, the evidence retrainings it
queues (they go to workers before new trials), what comes back, and what a concluded case leads to (the simpler
variant proposed as a trial). The decisions themselves are the Gate's (``_promotion.py``)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from evoforge.design import Design
from evoforge.executors import Job, Outcome
from evoforge.storage import Replicate, TrialRecord
from evoforge.study._promotion import Conclusion, Gate, single_run_beats, trial_seed

if TYPE_CHECKING:
    from evoforge.goal import Goal
    from evoforge.schedulers import Scheduler
    from evoforge.storage import Store, StudyRecord
    from evoforge.study._limits import Spend
    from evoforge.study._setup import Setup
    from evoforge.tasks import EvalSettings

REPLICATE_FN = "evoforge.study._worker:replicate"
REPLICATE_RETRIES = 1  # an evidence retraining that fails is tried once more before it counts as failed
POLL_DECISION_S = 2.0  # how often a running study looks for a person's decision on a pending promotion


class GateDriving:
    """Mixed into the Coordinator, whose state it shares (declared here for the type checker)."""

    goal: Goal
    setup: Setup
    store: Store
    study: StudyRecord
    settings: EvalSettings
    scheduler: Scheduler
    spend: Spend
    gate: Gate
    trials: dict[int, TrialRecord]
    scored: list[tuple[float, int]]
    functions: dict[str, int]
    counts: dict[str, int]
    queue: deque[TrialRecord]
    next_number: int
    side: deque[tuple[Job, int]]
    side_jobs: dict[int, tuple[Design, int]]
    side_tries: dict[tuple[str, int], int]
    _polled: float

    if TYPE_CHECKING:  # the Coordinator's own, used here

        @property
        def charged(self) -> int: ...

        def _feasible(self, design: Design) -> bool: ...

    def _advance_gate(self) -> None:
        """Open a case for the best challenger not judged yet, queue the retrainings its stage needs, and conclude
        it once they are in; a pending case waits for a person's decision (looked up every few seconds)."""
        for _ in range(100):  # each pass opens, advances or concludes a case; stop when nothing moves
            case = self.gate.case
            if case is None:
                challenger = self._next_challenger()
                if challenger is None:
                    return
                self.gate.open(challenger)
                continue
            if case.state == "pending":
                if time.monotonic() - self._polled > POLL_DECISION_S:
                    self._polled = time.monotonic()
                    if self.gate.refresh() and self.gate.case is None:
                        continue
                return
            trial = self.trials[case.trial_number]
            needed = self.gate.needed(trial.design)
            if self.gate.challenger_failed(trial.design) or self.gate.stopped_early(trial.design):  # the case is lost
                self._drop_queued_side()
            elif needed or self.side_jobs:
                self._queue_side(needed)
                return
            self._concluded(self.gate.conclude(trial), trial)

    def _next_challenger(self) -> TrialRecord | None:
        judged, margin = self.gate.judged, self.goal.oversight.noise_margin
        for negative, number in self.scored:
            if number not in judged:
                return self.trials[number] if single_run_beats(self.gate.champion, -negative, margin) else None
        return None

    def _queue_side(self, needed: list[tuple[Design, int]]) -> None:
        busy = set(self.side_jobs.values())
        for design, seed in needed:
            if (design, seed) in busy:
                continue
            key = min(self.side_jobs, default=0) - 1
            self.side_jobs[key] = (design, seed)
            payload = {
                "task": self.goal.task,
                "design": design.to_json(),
                "seed": seed,
                "settings": asdict(self.settings),
            }
            self.side.append((Job(key, REPLICATE_FN, payload), self._pieces(design)))

    def _pieces(self, design: Design) -> int:
        """How many pieces a trial of ``design`` may be trained in under the study's scheduler (1 without one)."""
        fidelities = self.setup.task.fidelities(design)
        return max(1, *(len(self.scheduler.stops(n, fidelities)) for n in range(self.goal.scheduler.brackets)))

    def _drop_queued_side(self) -> None:
        for job, _ in self.side:
            self.side_jobs.pop(job.key, None)
        self.side.clear()

    def _record_side(self, outcome: Outcome) -> None:
        design, seed = self.side_jobs.pop(outcome.key)
        tries = self.side_tries.get((design.hash, seed), 0)
        if not outcome.ok and tries < REPLICATE_RETRIES:  # a timeout or a lost worker may not happen again
            self.side_tries[(design.hash, seed)] = tries + 1
            self._queue_side([(design, seed)])
            return
        value = outcome.value or {}
        replicate = Replicate(
            design.hash,
            seed,
            value.get("metrics") if outcome.ok else None,
            None if outcome.ok else outcome.error,
            {**value.get("info", {}), "busy_s": self.spend.last},
            outcome.started_at,
            outcome.finished_at,
        )
        self.gate.record(design, seed, replicate)
        self.spend.add_energy(replicate.metrics)

    def _concluded(self, conclusion: Conclusion, trial: TrialRecord) -> None:
        attribution = conclusion.attribution or {}
        if attribution.get("simpler") is not None and self.charged < self.goal.budget.trials:
            self._propose_simpler(trial, Design.make(trial.design.space, attribution["simpler"]), attribution)

    def _recover_simpler(self) -> None:
        """Propose again a simpler variant whose case concluded just before the coordinator died (the case is in the
        store, the trial is not): recovery leaves nothing a finished case asked for undone."""
        proposed = {t.parents[0] for t in self.store.trials(self.study.id) if t.proposer == "attribution" and t.parents}
        for case in self.gate.cases:
            simpler = case.attribution.get("simpler") if case.attribution else None
            if simpler is None or case.trial_number in proposed or case.trial_number not in self.trials:
                continue
            if self.charged < self.goal.budget.trials:
                trial = self.trials[case.trial_number]
                self._propose_simpler(trial, Design.make(trial.design.space, simpler), case.attribution)

    def _propose_simpler(self, trial: TrialRecord, design: Design, attribution: dict[str, Any]) -> None:
        """The challenger without the changes that showed no gain, proposed as a trial like any other."""
        if not self._feasible(design):  # undoing changes gene by gene can break what the rest needs (a program)
            return
        function = self.setup.space.canonical(design)
        if function in self.functions:
            return
        drops = ", ".join(attribution["simpler_drops"])
        number = self.next_number
        self.next_number += 1
        record = self.store.add_trial(
            self.study.id,
            number,
            design,
            proposer="attribution",
            operator="simplify",
            rationale=f"trial #{trial.number} without {drops}: no measurable gain from them",
            parents=(trial.number,),
            seed=trial_seed(self.goal.search.seed, number),
            state="waiting",
        )
        self.counts["waiting"] = self.counts.get("waiting", 0) + 1
        self.functions[function] = number
        self.queue.append(record)
