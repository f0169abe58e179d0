"""The trial book: the one owner of a study's trial bookkeeping (numbering, counts by state, the queue of waiting
trials, the trials in flight, which functions were trained, the checkpoints of paused trials, complete trials by
score). Every change it makes is written to the store in the same step, and ``load`` rebuilds it from the store, so a
resumed study's book is the book of one that never stopped."""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from evoforge.design import Design
from evoforge.goal import Goal
from evoforge.proposers import Proposal
from evoforge.spaces import Space
from evoforge.storage import Store, StudyRecord, TrialRecord, TrialState
from evoforge.study._history import proposal_infos, proposal_of
from evoforge.study._promotion import trial_seed

Spooled = tuple[int, dict[str, Any]]  # (the epoch the work started from, what the worker kept)


@dataclass(frozen=True)
class Finished:
    """A trial's outcome as the rest of the study hears it: the proposer learns from it, the front takes it."""

    trial: TrialRecord
    values: tuple[float, ...] | None  # the goal's objective values (higher is better); None: nothing to learn from


class TrialBook:
    def __init__(self, goal: Goal, store: Store, study: StudyRecord, space: Space) -> None:
        self.goal, self.store, self.study, self.space = goal, store, study, space
        self.trials: dict[int, TrialRecord] = {}
        self.counts: dict[TrialState, int] = {}
        self.queue: deque[TrialRecord] = deque()  # waiting for a worker, in order
        self.running: dict[int, TrialRecord] = {}  # handed to an executor, by number
        self.functions: dict[str, int] = {}  # canonical function of every trained design -> its first trial
        self.paused: dict[int, tuple[int, bytes]] = {}  # trial -> (epoch reached, checkpoint to go on from)
        self.scored: list[tuple[float, int]] = []  # (-score, number) of complete trials, best first
        self.infos: dict[int, dict[str, Any]] = {}  # what the proposer noted about each proposal
        self.next_number = 0

    @classmethod
    def load(cls, goal: Goal, store: Store, study: StudyRecord, space: Space) -> tuple[TrialBook, dict[int, Spooled]]:
        """The book as the store holds it, and the results workers spooled that no coordinator recorded (their
        trials stay running until the caller records them); trials left running otherwise wait to run again."""
        book = cls(goal, store, study, space)
        book.trials = {t.number: t for t in store.trials(study.id)}
        book.infos = proposal_infos(store, study.id)
        for t in book.trials.values():
            if t.state.charged and t.state != TrialState.FAILED:  # a failed trial may be tried again in another form
                book.functions.setdefault(space.canonical(t.design), t.number)
            score = goal.score(t.metrics) if t.state == TrialState.COMPLETE else None
            if score is not None:
                book.scored.append((-score, t.number))
        book.scored.sort()
        book.next_number = max(book.trials, default=-1) + 1
        spooled = store.spooled(study.id)
        book.queue = deque(store.requeue_inflight(study.id, keep=spooled))
        for t in book.queue:
            book.trials[t.number] = t
        book.running = {n: book.trials[n] for n in spooled}
        book.counts = {TrialState(s): n for s, n in store.count_trials(study.id).items()}
        book.paused = store.checkpoints(study.id)  # re-run trials go on from their last milestone
        return book, spooled

    # -- counts ------------------------------------------------------------------------------------------------------
    @property
    def charged(self) -> int:
        """Trials that count against the budget: every trial except proposals never trained."""
        return sum(n for state, n in self.counts.items() if state.charged)

    @property
    def done(self) -> int:
        finished = (TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED)
        return sum(self.counts.get(s, 0) for s in finished)

    @property
    def room(self) -> bool:
        """Whether the trial budget has room for another trial."""
        return self.charged < self.goal.budget.trials

    def _move(self, trial: TrialRecord, new: TrialState) -> TrialRecord:
        self.counts[trial.state] = self.counts.get(trial.state, 0) - 1
        self.counts[new] = self.counts.get(new, 0) + 1
        moved = replace(trial, state=new)
        self.trials[trial.number] = moved
        return moved

    # -- new trials --------------------------------------------------------------------------------------------------
    def propose(self, proposal: Proposal, proposer: str, broken: list[str]) -> TrialRecord:
        """Record the next trial from ``proposal``: handed out at once (``running``), or, never trained and not
        charged, ``duplicate`` when it computes what a trial already computes, ``infeasible`` when it breaks a
        constraint known before training (``broken``)."""
        function = self.space.canonical(proposal.design)
        same = self.functions.get(function)
        error: str | None = None
        if same is not None:
            state, error = TrialState.DUPLICATE, f"computes the same function as trial {same}; not trained again"
        elif broken:
            state, error = TrialState.INFEASIBLE, "; ".join(broken)
        else:
            state = TrialState.RUNNING
        trial = self._add(proposal, proposer, state, error)
        if state == TrialState.RUNNING:
            self.functions[function] = trial.number
            self.running[trial.number] = trial
        return trial

    def add_simpler(self, parent: TrialRecord, design: Design, drops: str) -> TrialRecord | None:
        """The challenger ``parent`` without the changes that showed no gain, queued as a trial like any other
        (None when it computes what a trial already computes)."""
        function = self.space.canonical(design)
        if function in self.functions:
            return None
        why = f"trial #{parent.number} without {drops}: no measurable gain from them"
        trial = self._add(Proposal(design, (parent.number,), "simplify", why), "attribution", TrialState.WAITING)
        self.functions[function] = trial.number
        self.queue.append(trial)
        return trial

    def _add(self, proposal: Proposal, proposer: str, state: TrialState, error: str | None = None) -> TrialRecord:
        number = self.next_number
        trial = self.store.add_trial(
            self.study.id,
            number,
            proposal.design,
            proposer=proposer,
            operator=proposal.operator,
            rationale=proposal.rationale,
            parents=proposal.parents,
            seed=trial_seed(self.goal.search.seed, number),
            state=state,
            error=error,
            info=proposal.info,
        )
        self.next_number += 1
        self.trials[number] = trial
        self.infos[number] = proposal.info
        self.counts[state] = self.counts.get(state, 0) + 1
        return trial

    def proposal(self, trial: TrialRecord) -> Proposal:
        """The proposal that made ``trial``, as recorded (parents, operator, what the proposer noted)."""
        return proposal_of(trial, self.infos.get(trial.number))

    # -- running -----------------------------------------------------------------------------------------------------
    def next_waiting(self) -> TrialRecord | None:
        """The first waiting trial, now running."""
        if not self.queue:
            return None
        trial = self.queue.popleft()
        if trial.state == TrialState.WAITING:
            self.store.mark_running(self.study.id, trial.number)
            trial = replace(self._move(trial, TrialState.RUNNING), attempts=trial.attempts + 1)
            self.trials[trial.number] = trial
        self.running[trial.number] = trial
        return trial

    def resume_first(self, trial: TrialRecord) -> None:
        """A running trial whose next piece cannot start now (no free worker): it runs before anything waiting."""
        self.running.pop(trial.number, None)
        self.queue.appendleft(trial)

    def give_back(self, trial: TrialRecord, reason: str) -> None:
        """Its worker died under it (killed, lost with its machine) or its result is not the work it is at: it
        waits to run again."""
        self.running.pop(trial.number, None)
        self.store.requeue_trial(self.study.id, trial.number, reason)
        self.queue.append(self._move(trial, TrialState.WAITING))

    def milestone(self, trial: TrialRecord, epoch: int, checkpoint: bytes | None, payload: dict[str, Any]) -> None:
        """Record a result at a milestone; with a ``checkpoint`` the trial goes on from there (its next piece is to
        be handed out), without one the caller finishes it as pruned."""
        kept = (epoch, checkpoint) if checkpoint is not None else None
        self.store.record_report(self.study.id, trial.number, payload, kept)
        if kept is not None:
            self.paused[trial.number] = kept
        else:
            self.paused.pop(trial.number, None)

    def finish(
        self,
        trial: TrialRecord,
        state: TrialState,
        *,
        metrics: dict[str, float] | None = None,
        info: dict[str, Any] | None = None,
        error: str | None = None,
        artifact: bytes | None = None,
        times: tuple[float | None, float | None] = (None, None),
        note: dict[str, Any] | None = None,
    ) -> Finished:
        """Record a trial's outcome (``complete``, ``failed`` or ``pruned``) and say what the study learns from it."""
        self.running.pop(trial.number, None)
        self.paused.pop(trial.number, None)
        score = self.goal.score(metrics) if state == TrialState.COMPLETE and metrics is not None else None
        self.store.finish_trial(
            self.study.id,
            trial.number,
            state,
            metrics=metrics,
            info=info,
            error=error,
            artifact=artifact if score is not None else None,  # weights kept for possible champions only
            started_at=times[0],
            finished_at=times[1],
            note=note,
        )
        done = replace(self._move(trial, state), metrics=metrics or {}, info=info or {}, error=error)
        self.trials[trial.number] = done
        if score is not None:
            bisect.insort(self.scored, (-score, trial.number))
        function = self.space.canonical(trial.design)
        if state == TrialState.FAILED and self.functions.get(function) == trial.number:
            del self.functions[function]  # a failed trial may be tried again in another form
        values = self.goal.values(metrics) if state == TrialState.COMPLETE and metrics is not None else None
        return Finished(done, values)
