"""The coordinator's loop: asks for work (evidence retrainings first, then waiting trials, then new proposals),
hands it to the executor, and passes what comes back to its owners: the trial book records trials, the evidence
runner retrainings, the proposer and the front learn from finished trials, the scheduler judges milestones. It keeps
no state of its own beyond which work each job in flight is."""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from evoforge._errors import EvoforgeError
from evoforge.executors import Executor, Job, Outcome
from evoforge.goal import Search
from evoforge.proposers import Proposer, ProposerExhausted
from evoforge.schedulers import Scheduler
from evoforge.storage import Store, StoreUnavailable, StudyRecord, TrialRecord, TrialState
from evoforge.study._book import Finished, Spooled, TrialBook
from evoforge.study._evidence import EvidenceRunner
from evoforge.study._front import StudyFront
from evoforge.study._lease import HEARTBEAT_S
from evoforge.study._limits import Spend, cap_reached
from evoforge.study._messages import RETRAIN_FN, TRIAL_FN, Retraining, TrialWork, Work
from evoforge.study._progress import Progress
from evoforge.study._setup import Setup, rung_direction, rung_value
from evoforge.tasks import EvalSettings

MAX_INFEASIBLE_IN_A_ROW = 500
INSIGHT_EVERY = 10  # log what the proposer has learned (operator weights, predictor fit) every this many results


@dataclass(frozen=True)
class RunReport:
    study: str
    stopped_because: str
    trials: dict[str, int]
    generation: int | None


@dataclass
class Parts:
    """What the loop moves messages between; each piece of state has one owner among them."""

    book: TrialBook
    evidence: EvidenceRunner
    proposer: Proposer
    scheduler: Scheduler
    front: StudyFront
    spend: Spend
    search: Search  # the search settings as pinned when the study first ran


class Coordinator:
    def __init__(
        self,
        setup: Setup,
        store: Store,
        study: StudyRecord,
        executor: Executor,
        parts: Parts,
        settings: EvalSettings,
        owner: str,
        spool: bool = False,
    ) -> None:
        """``spool``: workers write each result to the store before handing it back (they must reach the store), so
        no result is lost with a coordinator that dies before recording it and no finished work runs twice."""
        self.setup, self.goal, self.store, self.study, self.executor = setup, setup.goal, store, study, executor
        self.parts, self.settings, self.owner = parts, settings, owner
        self.spool_url = store.url if spool else None
        self.flights: dict[int, Work] = {}  # job ticket -> the work it is
        self._tickets = itertools.count()
        self._heartbeat = time.monotonic()
        self._insights_at = -1

    @property
    def book(self) -> TrialBook:
        return self.parts.book

    # -- the loop ---------------------------------------------------------------------------------------------------
    def run(self, progress: Progress, spooled: dict[int, Spooled]) -> RunReport:
        started = time.monotonic()
        reason = None
        designer = self.store.events(self.study.id, "designer")
        self._insights_at = designer[-1].payload.get("after", -1) if designer else -1
        try:
            self._record_spooled(spooled, "result spooled before the coordinator stopped")
            while True:
                reason = reason or cap_reached(self.goal.budget, time.monotonic() - started, self.parts.spend)
                if reason is None:
                    self.parts.evidence.advance()
                    reason = self._fill()
                if self.executor.running == 0:
                    break
                for outcome in self.executor.wait(timeout=1.0):
                    self._dispatch(outcome)
                    self._log_insights()
                self._show(progress)
                self._keep_lease()
        except StoreUnavailable:
            raise  # nothing more can be written; trials in flight stay `running` and are re-run on resume
        except EvoforgeError as exc:
            # Trials still in flight stay `running` in the store and are re-run by the next `evoforge run`.
            self.store.log_event(self.study.id, "run_stopped", {"reason": str(exc)})
            raise
        reason = reason or self._finished_because()
        self._show(progress, force=True)
        self._log_insights(force=True)
        self.store.log_event(self.study.id, "run_stopped", {"reason": reason, "spent": self.parts.spend.as_dict()})
        champion = self.parts.evidence.gate.champion
        counts = self.store.count_trials(self.study.id)
        return RunReport(self.study.name, reason, counts, champion.generation if champion else None)

    def _fill(self) -> str | None:
        """Hand out work while workers are free: retrainings, then waiting trials, then new proposals. The reason
        to stop proposing, if the proposer can propose nothing more."""
        while self.executor.running < self.executor.capacity:
            work: Work | None = self.parts.evidence.next()
            if work is None:
                try:
                    trial = self._next_trial()
                except ProposerExhausted as exc:  # e.g. a cap on language-model requests: stop proposing
                    return str(exc)
                if trial is None:
                    return None
                work = TrialWork(trial.number)
            self._submit(work)
        return None

    def _finished_because(self) -> str:
        case = self.parts.evidence.gate.case
        waiting = (
            f"; promotion {case.number} waits for a person (evoforge review)"
            if case and case.state == "pending"
            else ""
        )
        return f"trial budget of {self.goal.budget.trials} trials spent{waiting}"

    # -- proposing --------------------------------------------------------------------------------------------------
    def _next_trial(self) -> TrialRecord | None:
        waiting = self.book.next_waiting()
        if waiting is not None:
            return waiting
        for _ in range(MAX_INFEASIBLE_IN_A_ROW):
            if not self.book.room or (self.setup.space.waiting and self.book.running):
                return None
            number = self.book.next_number
            proposal = self.parts.proposer.ask(number)
            trial = self.book.propose(proposal, self.parts.proposer.name, self._static_violations(proposal.design))
            if trial.state == TrialState.RUNNING:
                return trial
            self.parts.proposer.tell(number, proposal.design, None, proposal)
        raise EvoforgeError(
            f"{MAX_INFEASIBLE_IN_A_ROW} proposals in a row broke a constraint or repeated a design already trained; "
            "loosen the constraints, widen the space, or lower the trial budget"
        )

    def _static_violations(self, design: Any) -> list[str]:
        # Only metrics known before training; measured ones are checked when the trial comes back.
        if not self.goal.constraints:
            return []
        return self.goal.violations(self.setup.space.static_metrics(design, self.settings.latency_batch))

    # -- handing out work -------------------------------------------------------------------------------------------
    def _submit(self, work: Work) -> None:
        """Hand ``work`` to the executor under the goal's per-trial caps (wall clock, CPU time, memory); a retraining
        that trains straight through what a trial trains in several pieces gets the time caps of that many."""
        b = self.goal.budget
        pieces = work.pieces if isinstance(work, Retraining) else 1
        cpu = b.trial_cpu_s * pieces if b.trial_cpu_s is not None else None
        ticket = next(self._tickets)
        fn, payload = (RETRAIN_FN, self._retrain_payload(work)) if isinstance(work, Retraining) else self._trial(work)
        job = Job(ticket, fn, payload, b.trial_timeout_s * pieces, cpu, b.trial_memory_mb)
        self.flights[ticket] = work
        self.executor.submit(job)

    def _trial(self, work: TrialWork) -> tuple[str, dict[str, Any]]:
        trial = self.book.running[work.number]
        reached, checkpoint = self.book.paused.get(trial.number, (0, None))
        stops = self.parts.scheduler.stops(trial.number, self.setup.task.fidelities(trial.design))
        payload: dict[str, Any] = {
            "task": self.goal.task,
            "number": trial.number,
            "design": trial.design.to_json(),
            "seed": trial.seed,
            "settings": asdict(self.settings),
            "until": next((s for s in stops if s > reached), None),
            "checkpoint": checkpoint,
        }
        if self.setup.task.reports and self.goal.scheduler.name != "none":  # judged where it runs (RungReporter)
            schedule = self.goal.scheduler.model_dump(mode="json")
            payload["report"] = {"url": self.store.url, "study": self.study.id, "schedule": schedule}
            payload["report"]["direction"] = rung_direction(self.goal)
        if self.spool_url is not None:
            where = {"study": self.study.id, "trial": trial.number, "attempt": trial.attempts, "piece": reached}
            payload["spool"] = {"url": self.spool_url, **where}
        return TRIAL_FN, payload

    def _retrain_payload(self, work: Retraining) -> dict[str, Any]:
        design, settings = work.design.to_json(), asdict(self.settings)
        return {"task": self.goal.task, "design": design, "seed": work.seed, "settings": settings}

    # -- what comes back --------------------------------------------------------------------------------------------
    def _dispatch(self, outcome: Outcome) -> None:
        work = self.flights.pop(outcome.key)
        busy = self.parts.spend.add(outcome)
        if isinstance(work, Retraining):
            replicate = self.parts.evidence.done(work, outcome, busy)
            self.parts.spend.add_energy(replicate.metrics if replicate else None)
            return
        trial = self.book.running[work.number]
        if not outcome.ok:
            outcome = self._spooled(trial) or outcome
        self._trial_done(trial, outcome, busy)

    def _trial_done(self, trial: TrialRecord, outcome: Outcome, busy: float) -> None:
        if not outcome.ok and outcome.lost and trial.attempts <= self.goal.budget.trial_retries:
            # Its worker died under it (killed, lost with its machine): not the design's fault, so it runs again.
            self.book.give_back(trial, outcome.error or "worker lost")
            return
        times = (outcome.started_at, outcome.finished_at)
        note = {"hypervolume": self.parts.front.hypervolume, "busy_s": busy}
        if not outcome.ok:
            self._learn(self.book.finish(trial, TrialState.FAILED, error=outcome.error, times=times, note=note))
            return
        value = outcome.value
        metrics, info = value["metrics"], dict(value["info"])
        if value.get("checkpoint") is not None:
            self._milestone(trial, metrics, info, value["checkpoint"], busy)
            return
        if value.get("pruned"):  # stopped by the scheduler from inside its run, at a rung it reported
            self.parts.spend.add_energy(metrics)
            finished = self.book.finish(trial, TrialState.PRUNED, metrics=metrics, info=info, times=times, note=note)
            self._learn(replace(finished, values=None))
            return
        broken = self.goal.violations(metrics)
        if broken:
            info["constraint_violations"] = broken
        note["hypervolume"] = self.parts.front.add(trial.number, metrics)
        finished = self.book.finish(
            trial, TrialState.COMPLETE, metrics=metrics, info=info, artifact=value["artifact"], times=times, note=note
        )
        self.parts.spend.add_energy(metrics)
        self._learn(finished)

    def _milestone(self, trial: TrialRecord, metrics: dict, info: dict, checkpoint: bytes, busy: float) -> None:
        """A trial paused at a rung: the scheduler lets it go on (trained further from its checkpoint) or stops it,
        and then it is recorded as pruned with its last result."""
        value = rung_value(self.goal, metrics)
        epoch = int(info["epoch"])
        go_on = self.parts.scheduler.report(trial.number, epoch, value)
        payload = {"epoch": epoch, "value": value, "metrics": metrics, "continue": go_on, "curve": info.get("curve")}
        payload["busy_s"] = busy
        self.book.milestone(trial, epoch, checkpoint if go_on else None, payload)
        if go_on:
            if self.executor.running < self.executor.capacity:
                self._submit(TrialWork(trial.number))
            else:  # a recovered result at a milestone, more of them than workers: it waits its turn
                self.book.resume_first(trial)
            return
        self.parts.spend.add_energy(metrics)
        note = {"hypervolume": self.parts.front.hypervolume}
        finished = self.book.finish(trial, TrialState.PRUNED, metrics=metrics, info=info, note=note)
        # Told as no result: a stopped trial's partial scores (and its partial time or energy, which look cheap)
        # would crowd the finished designs out of the population; the scheduler has already judged it.
        self._learn(replace(finished, values=None))

    def _learn(self, finished: Finished) -> None:
        trial = finished.trial
        self.setup.space.observe(trial.design, trial.info)  # a space learned from the objective learns first
        self.parts.proposer.tell(trial.number, trial.design, finished.values, self.book.proposal(trial))

    # -- results that outlived their worker or coordinator ---------------------------------------------------------
    def _record_spooled(self, spooled: dict[int, Spooled], reason: str) -> None:
        """Record the results that workers spooled but the last coordinator never recorded, as if they came back
        now; a result from another milestone than the one its trial is at sends the trial back to wait."""
        recorded = []
        for number, (piece, kept) in sorted(spooled.items()):
            trial = self.book.running[number]
            if piece != self.book.paused.get(number, (0, None))[0]:  # not the work the trial is at: run it again
                self.book.give_back(trial, "its spooled result is from another milestone")
                continue
            recorded.append(number)
            outcome = Outcome(number, True, kept["value"], None, kept["started_at"], kept["finished_at"])
            self._trial_done(trial, outcome, self.parts.spend.add(outcome))
        if recorded:
            self.store.log_event(self.study.id, "recovered", {"trials": recorded, "reason": reason})

    def _spooled(self, trial: TrialRecord) -> Outcome | None:
        """The result of the trial's current work, if its worker spooled it before its outcome went wrong (e.g. it
        was killed between writing the result and handing it back)."""
        if self.spool_url is None:
            return None
        found = self.store.spooled(self.study.id, trial.number).get(trial.number)
        if found is None or found[0] != self.book.paused.get(trial.number, (0, None))[0]:
            return None
        kept = found[1]
        why = "result spooled before its worker died"
        self.store.log_event(self.study.id, "recovered", {"trials": [trial.number], "reason": why})
        return Outcome(trial.number, True, kept["value"], None, kept["started_at"], kept["finished_at"])

    # -- keeping people and the lease informed ---------------------------------------------------------------------
    def _log_insights(self, force: bool = False) -> None:
        """Record what the proposer has learned (operator and route weights, its predictor's fit) as a
        ``designer`` event: after every ``INSIGHT_EVERY`` results, and when the run stops."""
        done = self.book.done
        if done == self._insights_at or (not force and done % INSIGHT_EVERY):
            return
        insights = self.parts.proposer.insights()
        if insights:
            search = self.parts.search
            extra = {"after": done, "proposer": search.proposer, "profile": search.profile}
            self.store.log_event(
                self.study.id, "designer", {**extra, "transfer_from": search.transfer_from, **insights}
            )
        self._insights_at = done

    def _keep_lease(self) -> None:
        if time.monotonic() - self._heartbeat < HEARTBEAT_S:
            return
        self._heartbeat = time.monotonic()
        if not self.store.renew_lease(self.study.id, self.owner):
            raise EvoforgeError(f"study {self.study.name!r} was taken over by another coordinator; stopping")

    def _show(self, progress: Progress, force: bool = False) -> None:
        champion = self.parts.evidence.gate.champion
        best = abs(champion.score) if champion else None
        generation = champion.generation if champion else None
        progress.update(self.book.done, self.executor.running, best, generation, force=force)
