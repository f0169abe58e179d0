"""The coordinator: asks the proposer, checks limits, hands trials to the executor, records what comes back and
promotes champions. It holds no state that the store does not also hold."""

from __future__ import annotations

import hashlib
import os
import time
from collections import deque
from dataclasses import asdict, dataclass, replace

from evoforge._errors import EvoforgeError, GoalError
from evoforge.design import Design
from evoforge.executors import Executor, Job, Outcome
from evoforge.goal import Goal, Search, goal_from_json
from evoforge.proposers import Proposal, Proposer, make_proposer
from evoforge.schedulers import Scheduler, make_scheduler
from evoforge.storage import UNCHARGED_STATES, NewGeneration, Store, StudyRecord, TrialRecord
from evoforge.study._front import StudyFront, fixed_reference
from evoforge.study._history import history, proposal_infos, proposal_of, transfer_sources
from evoforge.study._lease import HEARTBEAT_S, take_lease
from evoforge.study._progress import Progress
from evoforge.study._promotion import Champion, promotion_reason
from evoforge.study._setup import MINIMIZED_CURVE_METRICS, Setup, prepare
from evoforge.tasks import EvalSettings

MAX_INFEASIBLE_IN_A_ROW = 500
INSIGHT_EVERY = 10  # log what the proposer has learned (operator weights, predictor fit) every this many results
WORKER_FN = "evoforge.study._worker:run_trial"
TEST_FN = "evoforge.study._worker:measure_test"


@dataclass(frozen=True)
class RunReport:
    study: str
    stopped_because: str
    trials: dict[str, int]
    generation: int | None


def trial_seed(search_seed: int, number: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{search_seed}:{number}".encode()).digest()[:4], "little")


def open_study(store: Store, goal: Goal) -> StudyRecord:
    """The study named by ``goal``: created, or resumed if the same goal (budget aside) made it before."""
    record = store.get_study(goal.study)
    if record is None:
        return store.create_study(goal.study, goal.to_json())
    old = goal_from_json(record.goal_json)
    changed = [k for k in Goal.model_fields if k != "budget" and getattr(old, k) != getattr(goal, k)]
    if changed:
        raise GoalError(
            f"study {goal.study!r} exists with a different goal (changed: {', '.join(changed)}); use another study name"
        )
    return record


def adopt_stored_search(store: Store, goal: Goal) -> Goal:
    """A study made before search profiles existed stored its search with the old defaults filled in
    (``proposer: evolution, population: 16``); the same goal file now leaves them unset. Such a study keeps the
    search it was run with, so its goal still matches and it resumes as it began."""
    record = store.get_study(goal.study)
    if record is None:
        return goal
    old = goal_from_json(record.goal_json).search
    new = goal.search
    unset = new.profile is None and new.proposer is None and new.population is None and new.tournament is None
    legacy = old.profile is None and old.proposer is not None and old.population is not None
    same_rest = (old.seed, old.start_from, old.transfer_from, old.options) == (
        new.seed,
        new.start_from,
        new.transfer_from,
        new.options,
    )
    return goal.model_copy(update={"search": old}) if unset and legacy and same_rest else goal


def apply_budget(store: Store, study: StudyRecord, goal: Goal) -> None:
    """Record a changed budget (the one part of a goal that may change between runs); call holding the lease."""
    old = goal_from_json(study.goal_json).budget
    if old != goal.budget:
        store.update_goal(study.id, goal.to_json(), [f"budget: {old} -> {goal.budget}"])


class Coordinator:
    def __init__(
        self, setup: Setup, store: Store, study: StudyRecord, executor: Executor, workers: int, owner: str
    ) -> None:
        self.setup, self.goal, self.store, self.study, self.executor = setup, setup.goal, store, study, executor
        self.owner = owner
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
        self.champion: Champion | None = None
        self.tests: deque[Job] = deque()  # champions' test measurements waiting for a worker
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
        gens = self.store.generations(self.study.id)
        if gens:
            self.champion = Champion(gens[-1].number, gens[-1].trial_number, gens[-1].score)
        untestable = {e.payload["generation"] for e in self.store.events(self.study.id, "test_failed")}
        for g in gens:
            if g.test_accuracy is None and g.number not in untestable:
                self._queue_test(g.number, g.design, self.store.artifact(self.study.id, g.trial_number))
        self.next_number = max(trials, default=-1) + 1
        self.queue = deque(self.store.requeue_inflight(self.study.id))
        self.counts = self.store.count_trials(self.study.id)  # after the requeue: in-flight trials are waiting now
        self.paused = self.store.checkpoints(self.study.id)  # re-run trials go on from their last milestone

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
        wall = self.goal.budget.wall_time_s
        reason = "trial budget spent"
        try:
            while True:
                out_of_time = wall is not None and time.monotonic() - started > wall
                if out_of_time:
                    reason = f"wall-time budget of {wall:g} s spent"
                while self.executor.running < self.executor.capacity:
                    if self.tests:
                        self.executor.submit(self.tests.popleft())
                        continue
                    trial = None if out_of_time else self._next_trial()
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
        except EvoforgeError as exc:
            # Trials still in flight stay `running` in the store and are re-run by the next `evoforge run`.
            self.store.log_event(self.study.id, "run_stopped", {"reason": str(exc)})
            raise
        self._show(progress, force=True)
        self._log_insights(force=True)
        self.store.log_event(self.study.id, "run_stopped", {"reason": reason})
        return RunReport(
            self.study.name,
            reason,
            self.store.count_trials(self.study.id),
            self.champion.generation if self.champion else None,
        )

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
        best = abs(self.champion.score) if self.champion else None
        generation = self.champion.generation if self.champion else None
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
            trial = replace(trial, state="running")
        self.pending[trial.number] = trial
        self.executor.submit(Job(trial.number, WORKER_FN, payload, self.goal.budget.trial_timeout_s))

    def _move(self, old: str, new: str) -> None:
        self.counts[old] = self.counts.get(old, 0) - 1
        self.counts[new] = self.counts.get(new, 0) + 1

    def _queue_test(self, generation: int, design: Design, artifact: bytes | None) -> None:
        # The held-out test split is read here, for a champion, and nowhere else; in a worker, like any trial.
        payload = {"task": self.goal.task, "design": design.to_json(), "artifact": artifact}
        self.tests.append(Job(-(generation + 1), TEST_FN, payload, self.goal.budget.trial_timeout_s))

    def _record_test(self, outcome: Outcome) -> None:
        generation = -outcome.key - 1
        if outcome.ok:
            self.store.set_test_accuracy(self.study.id, generation, float(outcome.value))
        else:  # recorded, not retried: the generation stands, without a test score
            self.store.log_event(self.study.id, "test_failed", {"generation": generation, "error": outcome.error})

    def _record(self, outcome: Outcome) -> None:
        if outcome.key < 0:
            self._record_test(outcome)
            return
        trial = self.pending.pop(outcome.key)
        if not outcome.ok:
            self.store.finish_trial(
                self.study.id,
                trial.number,
                "failed",
                error=outcome.error,
                note={"hypervolume": self.front.hypervolume},
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
        generation, artifact = self._maybe_promote(trial, score, outcome.value["artifact"])
        self.store.finish_trial(
            self.study.id,
            trial.number,
            "complete",
            metrics=metrics,
            info=info,
            generation=generation,
            artifact=artifact,
            started_at=outcome.started_at,
            finished_at=outcome.finished_at,
            note={"hypervolume": hypervolume},
        )
        self._move("running", "complete")
        self.proposer.tell(trial.number, trial.design, self.goal.values(metrics), self._proposal(trial))
        if generation is not None:
            self._queue_test(generation.number, trial.design, artifact)

    def _at_milestone(self, trial: TrialRecord, metrics: dict[str, float], info: dict, checkpoint: bytes) -> None:
        """A trial paused at a rung: the scheduler lets it go on (trained further from its checkpoint) or stops it,
        and then it is recorded as pruned with its last result."""
        metric = self.goal.scheduler.metric
        value = float(metrics[metric]) * (-1 if metric in MINIMIZED_CURVE_METRICS else 1)
        epoch = int(info["epoch"])
        go_on = self.scheduler.report(trial.number, epoch, value)
        payload = {"epoch": epoch, "value": value, "metrics": metrics, "continue": go_on, "curve": info.get("curve")}
        self.store.record_report(self.study.id, trial.number, payload, (epoch, checkpoint) if go_on else None)
        if go_on:
            self.paused[trial.number] = (epoch, checkpoint)
            self._submit(trial)
            return
        self.paused.pop(trial.number, None)
        note = {"hypervolume": self.front.hypervolume}
        self.store.finish_trial(self.study.id, trial.number, "pruned", metrics=metrics, info=info, note=note)
        self._move("running", "pruned")
        # Told as no result: a stopped trial's partial scores (and its partial time or energy, which look cheap)
        # would crowd the finished designs out of the population; the scheduler has already judged it.
        self.proposer.tell(trial.number, trial.design, None, self._proposal(trial))

    def _proposal(self, trial: TrialRecord) -> Proposal:
        return proposal_of(trial, self.infos.get(trial.number))

    def _maybe_promote(
        self, trial: TrialRecord, score: float | None, artifact: bytes | None
    ) -> tuple[NewGeneration | None, bytes | None]:
        if score is None:
            return None, None
        metric = self.goal.objective[0]
        reason = promotion_reason(self.champion, score, metric, self.goal.oversight.noise_margin)
        if reason is None:
            return None, None
        number = 0 if self.champion is None else self.champion.generation + 1
        self.champion = Champion(number, trial.number, score)
        return NewGeneration(number, score, None, reason), artifact  # its test accuracy is measured next


def run_study(
    goal: Goal, storage: str = "sqlite:///evoforge.db", workers: int | None = None, quiet: bool = True
) -> RunReport:
    """Run (or resume) the study that ``goal`` describes until its budget is spent.

    ``workers``: size of the local process pool (default: the machine's cores); 0 runs trials in this process.
    Raises ``GoalError`` / ``StorageError`` before anything is written when the goal or storage is bad.
    """
    from evoforge.executors import InlineExecutor, LocalPool

    if workers is not None and workers < 0:
        raise GoalError(f"--workers: expected 0 or more, got {workers}")
    setup = prepare(goal)
    store = Store(storage)
    adopted = adopt_stored_search(store, goal)
    if adopted is not goal:
        goal, setup = adopted, prepare(adopted)
    transfer_sources(store, goal.study, goal, setup.space.name)  # checked before anything is written
    study = open_study(store, goal)
    owner = take_lease(store, study)
    workers = os.cpu_count() or 1 if workers is None else workers
    try:
        apply_budget(store, study, goal)
        executor: Executor = LocalPool(workers) if workers > 0 else InlineExecutor()
        try:
            coordinator = Coordinator(setup, store, study, executor, workers, owner)
            progress = Progress(goal.budget.trials, coordinator.done, quiet=quiet)
            try:
                return coordinator.run(progress)
            finally:
                progress.close()
        finally:
            executor.shutdown()
    finally:
        store.release_lease(study.id, owner)
