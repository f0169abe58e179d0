"""The evidence runner: which challenger the gate judges next, the retrainings its case needs (handed to workers
before new trials), what comes back, and what a concluded case leads to (the simpler variant proposed as a trial).
The decisions are the Gate's (``_promotion.py``); the trials are the book's; this owns only the retraining queue."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from evoforge.design import Design
from evoforge.executors import Outcome
from evoforge.storage import Attribution, PromotionState, Replicate, TrialRecord
from evoforge.study._book import TrialBook
from evoforge.study._messages import Retraining
from evoforge.study._promotion import Conclusion, Gate, single_run_beats

RETRAIN_RETRIES = 1  # an evidence retraining that fails is tried once more before it counts as failed
POLL_DECISION_S = 2.0  # how often a running study looks for a person's decision on a pending promotion


class EvidenceRunner:
    """``pieces(design)``: how many pieces a trial of ``design`` may be trained in (its retraining's time caps);
    ``feasible(design)``: whether a simpler variant may be proposed at all (valid, within the static constraints)."""

    def __init__(
        self,
        gate: Gate,
        book: TrialBook,
        pieces: Callable[[Design], int],
        feasible: Callable[[Design], bool],
    ) -> None:
        self.gate, self.book, self.pieces, self.feasible = gate, book, pieces, feasible
        self.queue: deque[Retraining] = deque()  # retrainings waiting for a worker
        self.flying: set[tuple[str, int]] = set()  # (design hash, seed) queued or running
        self.tries: dict[tuple[str, int], int] = {}  # failed attempts of each retraining in this run
        self._polled = 0.0

    @property
    def busy(self) -> bool:
        return bool(self.flying)

    def next(self) -> Retraining | None:
        return self.queue.popleft() if self.queue else None

    def advance(self) -> None:
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
            if case.state == PromotionState.PENDING:
                if time.monotonic() - self._polled > POLL_DECISION_S:
                    self._polled = time.monotonic()
                    if self.gate.refresh() and self.gate.case is None:
                        continue
                return
            trial = self.book.trials[case.trial_number]
            needed = self.gate.needed(trial.design)
            if self.gate.challenger_failed(trial.design) or self.gate.stopped_early(trial.design):  # the case is lost
                self._drop_queued()
            elif needed or self.flying:
                self._queue(needed)
                return
            self._concluded(self.gate.conclude(trial), trial)

    def done(self, work: Retraining, outcome: Outcome, busy_s: float) -> Replicate | None:
        """Record a retraining's result (or try a failed one once more); the replicate recorded, if any."""
        key = (work.design.hash, work.seed)
        self.flying.discard(key)
        tries = self.tries.get(key, 0)
        if not outcome.ok and tries < RETRAIN_RETRIES:  # a timeout or a lost worker may not happen again
            self.tries[key] = tries + 1
            self._queue([(work.design, work.seed)])
            return None
        value = outcome.value or {}
        replicate = Replicate(
            work.design.hash,
            work.seed,
            value.get("metrics") if outcome.ok else None,
            None if outcome.ok else outcome.error,
            {**value.get("info", {}), "busy_s": busy_s},
            outcome.started_at,
            outcome.finished_at,
        )
        self.gate.record(work.design, work.seed, replicate)
        return replicate

    def recover(self) -> None:
        """Propose again a simpler variant whose case concluded just before the coordinator died (the case is in the
        store, the trial is not): recovery leaves nothing a finished case asked for undone."""
        proposed = {t.parents[0] for t in self.book.trials.values() if t.proposer == "attribution" and t.parents}
        for case in self.gate.cases:
            if case.attribution is None or case.attribution.simpler is None:
                continue
            if case.trial_number not in proposed and case.trial_number in self.book.trials:
                self._propose_simpler(self.book.trials[case.trial_number], case.attribution)

    # -- internals ---------------------------------------------------------------------------------------------------
    def _next_challenger(self) -> TrialRecord | None:
        judged, margin = self.gate.judged, self.gate.goal.oversight.noise_margin
        for negative, number in self.book.scored:
            if number not in judged:
                return self.book.trials[number] if single_run_beats(self.gate.champion, -negative, margin) else None
        return None

    def _queue(self, needed: list[tuple[Design, int]]) -> None:
        for design, seed in needed:
            if (design.hash, seed) not in self.flying:
                self.flying.add((design.hash, seed))
                self.queue.append(Retraining(design, seed, self.pieces(design)))

    def _drop_queued(self) -> None:
        for work in self.queue:
            self.flying.discard((work.design.hash, work.seed))
        self.queue.clear()

    def _concluded(self, conclusion: Conclusion, trial: TrialRecord) -> None:
        if conclusion.attribution is not None and conclusion.attribution.simpler is not None:
            self._propose_simpler(trial, conclusion.attribution)

    def _propose_simpler(self, trial: TrialRecord, attribution: Attribution) -> None:
        """The challenger without the changes that showed no gain, proposed as a trial like any other."""
        assert attribution.simpler is not None
        design = Design.make(trial.design.space, attribution.simpler)
        # Undoing changes gene by gene can break what the rest needs (a program): only a feasible variant is tried.
        if self.book.room and self.feasible(design):
            self.book.add_simpler(trial, design, ", ".join(attribution.simpler_drops))
