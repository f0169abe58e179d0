"""The coordinator: asks the proposer, checks limits, hands trials to the executor, records what comes back and
drives the promotion gate. It holds no state that the store does not also hold."""

from __future__ import annotations

import bisect
import os
import time
from collections import deque
from dataclasses import asdict, dataclass, replace

from evoforge._errors import EvoforgeError
from evoforge.design import Design
from evoforge.executors import Executor, Job, Outcome
from evoforge.goal import Search
from evoforge.proposers import Proposal, Proposer, ProposerExhausted, make_proposer
from evoforge.schedulers import Scheduler, make_scheduler
from evoforge.storage import UNCHARGED_STATES, Store, StoreUnavailable, StudyRecord, TrialRecord
from evoforge.study._front import StudyFront, fixed_reference
from evoforge.study._gating import GateDriving
from evoforge.study._history import history, proposal_infos, proposal_of, transfer_sources
from evoforge.study._lease import HEARTBEAT_S
from evoforge.study._limits import Spend, cap_reached
from evoforge.study._progress import Progress
from evoforge.study._promotion import Gate, trial_seed
from evoforge.study._setup import MINIMIZED_CURVE_METRICS, Setup
from evoforge.tasks import EvalSettings

MAX_INFEASIBLE_IN_A_ROW = 500
INSIGHT_EVERY = 10  # log what the proposer has learned (operator weights, predictor fit) every this many results
WORKER_FN = "evoforge.study._worker:run_trial"


@dataclass(frozen=True)
class RunReport:
    study: str
    stopped_because: str
    trials: dict[str, int]
    generation: int | None


class Coordinator(GateDriving):
    def __init__(
        self,
        setup: Setup,
        store: Store,
        study: StudyRecord,
        executor: Executor,
        workers: int,
        owner: str,
        spool: bool = False,
    ) -> None:
        """``spool``: workers write each result to the store before handing it back (they must reach the store), so
        no result is lost with a coordinator that dies before recording it and no finished work runs twice."""
        self.setup, self.goal, self.store, self.study, self.executor = setup, setup.goal, store, study, executor
        self.owner = owner
        self.spool_url = store.url if spool else None
        self._heartbeat = time.monotonic()
        threads = self.goal.evaluation.threads or max(1, (os.cpu_count() or 1) // max(workers, 1))
        e = self.goal.evaluation
        self.settings = EvalSettings(
            e.device,
            threads,
            e.latency_batch,
            latency_repeats=e.latency_repeats,
            power_w=e.power_w,
            target_accuracy=e.target_accuracy,
        )
        self.search, self.transfer_counts = self._pinned_search()
        self.proposer: Proposer = make_proposer(self.search, setup.space, setup.start_from)
        self.pending: dict[int, TrialRecord] = {}
        self.counts: dict[str, int] = {}
        self.gate = Gate(self.goal, store, study, setup.space)
        self.side: deque[tuple[Job, int]] = deque()  # evidence retrainings (and their pieces) waiting for a worker
        self.side_tries: dict[tuple[str, int], int] = {}  # failed attempts of each retraining in this run
        self.side_jobs: dict[int, tuple[Design, int]] = {}  # job key (negative) -> (design, evidence seed)
        self.scored: list[tuple[float, int]] = []  # (-score, trial number) of complete trials, best first
        self.spend = Spend()
        self._polled = 0.0
        self.front = StudyFront(self.goal, fixed_reference(self.goal, setup.space))
        self.scheduler: Scheduler = make_scheduler(self.goal.scheduler)
        self.paused: dict[int, tuple[int, bytes]] = {}  # trial -> (epoch reached, checkpoint to go on from)
        self.infos: dict[int, dict] = {}  # what the proposer noted about each proposal
        self.functions: dict[str, int] = {}  # canonical function of every trained design -> its first trial
        self._insights_at = -1
        self._recover()

    def _pinned_search(self) -> tuple[Search, dict[str, int]]:
        """The search settings and transfer sources as they were when the study first ran: a profile edited or a
        source study grown since then does not change how a resumed study proposes."""
        pinned = self.store.events(self.study.id, "search_pinned")
        if pinned:
            payload = pinned[0].payload
            return Search.model_validate(payload["search"]), dict(payload["transfer"])
        counts = {
            name: len(history(self.store, record))
            for name in self.setup.search.transfer_from
            if (record := self.store.get_study(name)) is not None
        }
        payload = {"search": self.setup.search.model_dump(mode="json"), "transfer": counts}
        self.store.log_event(self.study.id, "search_pinned", payload)
        return self.setup.search, counts

    # -- recovery: rebuild every piece of state from the store --------------------------------------------------------
    def _recover(self) -> None:
        sources = transfer_sources(self.store, self.study.name, self.goal, self.setup.space.name)
        sources = [
            told[: self.transfer_counts.get(name, len(told))]
            for name, told in zip(self.search.transfer_from, sources, strict=True)
        ]
        if sources:
            self.proposer.warm_start(sources)
        trials = {t.number: t for t in self.store.trials(self.study.id)}
        self.infos = proposal_infos(self.store, self.study.id)
        # Replay outcomes in the order they were recorded, which is the order the proposer was told them.
        for told in history(self.store, self.study, self.goal):
            self.proposer.tell(told.number, told.design, told.values, told.proposal)
            if told.values is not None:
                self.front.add(told.number, trials[told.number].metrics)
        for t in trials.values():
            if t.state not in (*UNCHARGED_STATES, "failed"):  # a failed trial may be tried again in another form
                self.functions.setdefault(self.setup.space.canonical(t.design), t.number)
        designer = self.store.events(self.study.id, "designer")
        self._insights_at = designer[-1].payload.get("after", -1) if designer else -1
        for event in self.store.events(self.study.id, "report"):  # the scheduler's state is its reports
            self.scheduler.report(int(event.trial_number or 0), event.payload["epoch"], event.payload["value"])
        self.trials = trials
        for t in trials.values():
            score = self.goal.score(t.metrics) if t.state == "complete" else None
            if score is not None:
                self.scored.append((-score, t.number))
        self.scored.sort()
        self.spend = Spend.of(self.store, self.study.id)
        self.next_number = max(trials, default=-1) + 1
        # Results workers spooled before the last coordinator died are recorded, not trained again (see ``run``).
        self.recovered = self.store.spooled(self.study.id)
        self.queue = deque(self.store.requeue_inflight(self.study.id, keep=self.recovered))
        self.counts = self.store.count_trials(self.study.id)  # after the requeue: in-flight trials are waiting now
        self.paused = self.store.checkpoints(self.study.id)  # re-run trials go on from their last milestone
        self._recover_simpler()

    @property
    def charged(self) -> int:
        """Trials that count against the budget: every trial except infeasible proposals."""
        return sum(n for state, n in self.counts.items() if state not in UNCHARGED_STATES)

    @property
    def done(self) -> int:
        return sum(self.counts.get(s, 0) for s in ("complete", "failed", "pruned"))

    # -- the loop ---------------------------------------------------------------------------------------------------
    def run(self, progress: Progress) -> RunReport:
        started = time.monotonic()
        reason = None
        try:
            self._record_recovered()
            while True:
                reason = reason or cap_reached(self.goal.budget, time.monotonic() - started, self.spend)
                if reason is None:
                    self._advance_gate()
                while reason is None and self.executor.running < self.executor.capacity:
                    if self.side:
                        self._submit_job(*self.side.popleft())
                        continue
                    try:
                        trial = self._next_trial()
                    except ProposerExhausted as exc:  # e.g. a cap on language-model requests: stop proposing
                        reason = str(exc)
                        break
                    if trial is None:
                        break
                    self._submit(trial)
                if self.executor.running == 0:
                    break
                for outcome in self.executor.wait(timeout=1.0):
                    self._record(outcome)
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
        self.store.log_event(self.study.id, "run_stopped", {"reason": reason, "spent": self.spend.as_dict()})
        champion = self.gate.champion
        return RunReport(
            self.study.name,
            reason,
            self.store.count_trials(self.study.id),
            champion.generation if champion else None,
        )

    def _finished_because(self) -> str:
        case = self.gate.case
        waiting = (
            f"; promotion {case.number} waits for a person (evoforge review)"
            if case and case.state == "pending"
            else ""
        )
        return f"trial budget of {self.goal.budget.trials} trials spent{waiting}"

    def _record_recovered(self) -> None:
        """Record the results that workers spooled but the last coordinator never recorded, as if they came back now."""
        for number, spooled in sorted(self.recovered.items()):
            trial = self.trials[number]
            outcome = self._recovered(number, spooled, "result spooled before the coordinator stopped")
            if outcome is None:  # not the work the trial is at: run it again
                self.store.requeue_trial(self.study.id, number, "its spooled result is from another milestone")
                self._move("running", "waiting")
                self.queue.append(replace(trial, state="waiting"))
                continue
            self.pending[number] = trial
            self._record(outcome)
        self.recovered = {}

    def _spooled(self, trial: TrialRecord) -> Outcome | None:
        """The result of the trial's current work, if its worker spooled it before its outcome went wrong (e.g. it
        was killed between writing the result and handing it back)."""
        if self.spool_url is None:
            return None
        spooled = self.store.spooled(self.study.id, trial.number).get(trial.number)
        return self._recovered(trial.number, spooled, "result spooled before its worker died") if spooled else None

    def _recovered(self, number: int, spooled: tuple[int, dict], reason: str) -> Outcome | None:
        """A spooled result as the outcome of the trial's current work (None if it is from another milestone),
        noted in the study's log as recovered."""
        piece, kept = spooled
        if piece != self.paused.get(number, (0, None))[0]:
            return None
        self.store.log_event(self.study.id, "recovered", {"trials": [number], "reason": reason})
        return Outcome(number, True, kept["value"], None, kept["started_at"], kept["finished_at"])

    def _log_insights(self, force: bool = False) -> None:
        """Record what the proposer has learned (operator and route weights, its predictor's fit) as a
        ``designer`` event: after every ``INSIGHT_EVERY`` results, and when the run stops."""
        done = self.done
        if done == self._insights_at or (not force and done % INSIGHT_EVERY):
            return
        insights = self.proposer.insights()
        if insights:
            search = self.search
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
        champion = self.gate.champion
        best = abs(champion.score) if champion else None
        generation = champion.generation if champion else None
        progress.update(self.done, self.executor.running, best, generation, force=force)

    def _next_trial(self) -> TrialRecord | None:
        if self.queue:
            return self.queue.popleft()
        for _ in range(MAX_INFEASIBLE_IN_A_ROW):
            if self.charged >= self.goal.budget.trials:
                return None
            trial = self._propose()
            if trial.state == "running":
                return trial
        raise EvoforgeError(
            f"{MAX_INFEASIBLE_IN_A_ROW} proposals in a row broke a constraint or repeated a design already trained; "
            "loosen the constraints, widen the space, or lower the trial budget"
        )

    def _propose(self) -> TrialRecord:
        number = self.next_number
        self.next_number += 1
        proposal = self.proposer.ask(number)
        function = self.setup.space.canonical(proposal.design)
        same = self.functions.get(function)
        broken = [] if same is not None else self._static_violations(proposal.design)
        error: str | None
        if same is not None:  # computes what trial `same` computes: never trained twice
            state, error = "duplicate", f"computes the same function as trial {same}; not trained again"
        else:
            state = "infeasible" if broken else "running"  # a feasible proposal is handed out at once
            error = "; ".join(broken) or None
        trial = self.store.add_trial(
            self.study.id,
            number,
            proposal.design,
            proposer=self.proposer.name,
            operator=proposal.operator,
            rationale=proposal.rationale,
            parents=proposal.parents,
            seed=trial_seed(self.goal.search.seed, number),
            state=state,
            error=error,
            info=proposal.info,
        )
        self.counts[state] = self.counts.get(state, 0) + 1
        self.infos[number] = proposal.info
        if state == "running":
            self.functions[function] = number
        else:
            self.proposer.tell(number, proposal.design, None, proposal)
        return trial

    def _feasible(self, design: Design) -> bool:
        try:
            self.setup.space.validate(design)
        except ValueError:
            return False
        return not self._static_violations(design)

    def _static_violations(self, design: Design) -> list[str]:
        # Only metrics known before training; measured ones are checked when the trial comes back.
        if not self.goal.constraints:
            return []
        return self.goal.violations(self.setup.space.static_metrics(design, self.settings.latency_batch))

    def _submit(self, trial: TrialRecord) -> None:
        reached, checkpoint = self.paused.get(trial.number, (0, None))
        stops = self.scheduler.stops(trial.number, self.setup.task.fidelities(trial.design))
        payload = {
            "task": self.goal.task,
            "design": trial.design.to_json(),
            "seed": trial.seed,
            "settings": asdict(self.settings),
            "until": next((s for s in stops if s > reached), None),
            "checkpoint": checkpoint,
        }
        if trial.state == "waiting":  # re-run after a stop; new proposals are recorded as running already
            self.store.mark_running(self.study.id, trial.number)
            self._move("waiting", "running")
            trial = replace(trial, state="running", attempts=trial.attempts + 1)
        if self.spool_url is not None:
            where = {"study": self.study.id, "trial": trial.number, "attempt": trial.attempts, "piece": reached}
            payload["spool"] = {"url": self.spool_url, **where}
        self.pending[trial.number] = trial
        self._submit_job(Job(trial.number, WORKER_FN, payload))

    def _submit_job(self, job: Job, pieces: int = 1) -> None:
        """Hand a job to the executor under the goal's per-trial caps (wall clock, CPU time, memory). A job that
        trains straight through what a trial trains in ``pieces`` (an evidence retraining under early stopping) gets
        the time caps of that many pieces."""
        b = self.goal.budget
        cpu = b.trial_cpu_s * pieces if b.trial_cpu_s is not None else None
        self.executor.submit(replace(job, timeout_s=b.trial_timeout_s * pieces, cpu_s=cpu, memory_mb=b.trial_memory_mb))

    def _move(self, old: str, new: str) -> None:
        self.counts[old] = self.counts.get(old, 0) - 1
        self.counts[new] = self.counts.get(new, 0) + 1

    def _record(self, outcome: Outcome) -> None:
        if outcome.key < 0:
            self.spend.add(outcome)
            self._record_side(outcome)
            return
        trial = self.pending.pop(outcome.key)
        if not outcome.ok:
            outcome = self._spooled(trial) or outcome
        busy = self.spend.add(outcome)
        if not outcome.ok and outcome.lost and trial.attempts <= self.goal.budget.trial_retries:
            # Its worker died under it (killed, lost with its machine): not the design's fault, so it runs again.
            self.store.requeue_trial(self.study.id, trial.number, outcome.error or "worker lost")
            self._move("running", "waiting")
            self.queue.append(replace(trial, state="waiting"))
            return
        if not outcome.ok:
            self.store.finish_trial(
                self.study.id,
                trial.number,
                "failed",
                error=outcome.error,
                note={"hypervolume": self.front.hypervolume, "busy_s": busy},
                started_at=outcome.started_at,
                finished_at=outcome.finished_at,
            )
            self._move("running", "failed")
            function = self.setup.space.canonical(trial.design)
            if self.functions.get(function) == trial.number:
                del self.functions[function]
            self.proposer.tell(trial.number, trial.design, None, self._proposal(trial))
            return
        metrics, info = outcome.value["metrics"], dict(outcome.value["info"])
        if outcome.value.get("checkpoint") is not None:
            self._at_milestone(trial, metrics, info, outcome.value["checkpoint"])
            return
        self.paused.pop(trial.number, None)
        broken = self.goal.violations(metrics)
        if broken:
            info["constraint_violations"] = broken
        score = self.goal.score(metrics)
        hypervolume = self.front.add(trial.number, metrics)
        self.store.finish_trial(
            self.study.id,
            trial.number,
            "complete",
            metrics=metrics,
            info=info,
            artifact=outcome.value["artifact"] if score is not None else None,  # weights kept for possible champions
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            note={"hypervolume": hypervolume, "busy_s": busy},
        )
        self._move("running", "complete")
        self.trials[trial.number] = replace(trial, state="complete", metrics=metrics, info=info)
        if score is not None:
            bisect.insort(self.scored, (-score, trial.number))
        self.spend.add_energy(metrics)
        self.proposer.tell(trial.number, trial.design, self.goal.values(metrics), self._proposal(trial))

    def _at_milestone(self, trial: TrialRecord, metrics: dict[str, float], info: dict, checkpoint: bytes) -> None:
        """A trial paused at a rung: the scheduler lets it go on (trained further from its checkpoint) or stops it,
        and then it is recorded as pruned with its last result."""
        metric = self.goal.scheduler.metric
        value = float(metrics[metric]) * (-1 if metric in MINIMIZED_CURVE_METRICS else 1)
        epoch = int(info["epoch"])
        go_on = self.scheduler.report(trial.number, epoch, value)
        payload = {"epoch": epoch, "value": value, "metrics": metrics, "continue": go_on, "curve": info.get("curve")}
        payload["busy_s"] = self.spend.last
        self.store.record_report(self.study.id, trial.number, payload, (epoch, checkpoint) if go_on else None)
        if go_on:
            self.paused[trial.number] = (epoch, checkpoint)
            if self.executor.running < self.executor.capacity:
                self._submit(trial)
            else:  # a recovered result at a milestone, more of them than workers: it waits its turn
                self.queue.appendleft(trial)
            return
        self.paused.pop(trial.number, None)
        self.spend.add_energy(metrics)
        note = {"hypervolume": self.front.hypervolume}
        self.store.finish_trial(self.study.id, trial.number, "pruned", metrics=metrics, info=info, note=note)
        self._move("running", "pruned")
        # Told as no result: a stopped trial's partial scores (and its partial time or energy, which look cheap)
        # would crowd the finished designs out of the population; the scheduler has already judged it.
        self.proposer.tell(trial.number, trial.design, None, self._proposal(trial))

    def _proposal(self, trial: TrialRecord) -> Proposal:
        return proposal_of(trial, self.infos.get(trial.number))
