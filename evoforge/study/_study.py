"""A study built from parts: the composition root. The goal says what a person asked for; the task, proposer,
scheduler, executor and store are objects, passed in (as an Optuna study takes a sampler instance) or built from the
goal's names. ``Study.run`` opens or resumes the study in the store, takes its lease, rebuilds every part's state
from the store in one place, and drives the loop."""

from __future__ import annotations

import os
from collections.abc import Callable

from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.executors import Executor, InlineExecutor, LocalPool, make_executor
from evoforge.goal import Goal, Search, goal_from_json
from evoforge.oversight import require_intact
from evoforge.proposers import PROPOSER_PARTS, Proposer, make_proposer
from evoforge.schedulers import SCHEDULER_PARTS, Scheduler, make_scheduler
from evoforge.storage import Store, StoreUnavailable, StudyRecord
from evoforge.study._book import TrialBook
from evoforge.study._evidence import EvidenceRunner
from evoforge.study._front import StudyFront, fixed_reference
from evoforge.study._history import history, transfer_sources
from evoforge.study._lease import take_lease
from evoforge.study._limits import Spend
from evoforge.study._loop import Coordinator, Parts, RunReport
from evoforge.study._progress import Progress
from evoforge.study._promotion import Gate
from evoforge.study._setup import Setup, prepare
from evoforge.tasks import EvalSettings, Task


class Study:
    """Everything a run of one study is made of.

    ``goal``: the study's name, objectives, constraints, budget, search and oversight settings. ``storage``: a
    ``Store`` or its URL. Any part given replaces the one the goal names: ``task`` (the goal's ``task`` section then
    becomes the import path and options that rebuild it in worker processes), ``proposer`` (a fresh object: its state
    is rebuilt from the study's history), ``scheduler``, ``executor`` (an object the caller owns, or a function
    that makes one when a run has the study's lease, shut down after the run; default: the local pool, one worker
    process per core). Raises ``GoalError`` / ``StorageError`` before anything is written when the goal or storage
    is bad.
    """

    def __init__(
        self,
        goal: Goal,
        storage: Store | str = "sqlite:///evoforge.db",
        *,
        task: Task | None = None,
        proposer: Proposer | None = None,
        scheduler: Scheduler | None = None,
        executor: Executor | Callable[[], Executor] | None = None,
    ) -> None:
        goal = _named(goal, proposer, scheduler)
        self.setup = prepare(goal, task)
        self.goal = self.setup.goal
        self.store = storage if isinstance(storage, Store) else Store(storage)
        adopted = adopt_stored_search(self.store, self.goal)
        if adopted is not self.goal:
            self.setup = prepare(adopted, self.setup.task)
            self.goal = adopted
        transfer_sources(self.store, self.goal.study, self.goal, self.setup.space.name)  # checked before writing
        self._proposer, self._scheduler = proposer, scheduler
        self.executor = executor

    def run(self, quiet: bool = True, standby: bool = False, spool: bool | None = None) -> RunReport:
        """Run (or resume) the study until its budget is spent. ``standby``: if another coordinator is running it,
        wait and take over when it stops or dies, instead of refusing. ``spool``: workers write each result to the
        store before handing it back (default: when they can reach it: local worker processes, or a server store)."""
        store, goal = self.store, self.goal
        study = open_study(store, goal)
        require_intact(store, study)
        owner = take_lease(store, study, wait=standby, quiet=quiet)
        reachable = True
        owned = not isinstance(self.executor, Executor)
        executor: Executor | None = None if owned else self.executor  # type: ignore[assignment]
        try:
            apply_budget(store, study, goal)
            parts, spooled = self._parts(study)
            if executor is None:
                executor = self.executor() if callable(self.executor) else make_executor("local", None)
            spool = _spools(executor, store) if spool is None else spool
            settings = eval_settings(goal, executor.capacity)
            coordinator = Coordinator(self.setup, store, study, executor, parts, settings, owner, spool=spool)
            progress = Progress(goal.budget.trials, parts.book.done, quiet=quiet)
            try:
                return coordinator.run(progress, spooled)
            finally:
                progress.close()
        except StoreUnavailable:
            reachable = False  # the lease lapses by itself: this process is gone when the next run looks at it
            raise
        finally:
            if executor is not None and owned:
                executor.shutdown()
            if reachable:
                store.release_lease(study.id, owner)

    def _parts(self, study: StudyRecord) -> tuple[Parts, dict]:
        """Every part's state rebuilt from the store: the trial book, the gate, the proposer (warm-started, then told
        the study's history in the order it was recorded), the front and the scheduler (its reports)."""
        setup, store, goal = self.setup, self.store, self.goal
        search, transfer_counts = pinned_search(store, study, setup)
        proposer = self._proposer or make_proposer(search, setup.space, setup.start_from)
        if proposer.space is not setup.space:  # an object built elsewhere proposes in this study's space
            if type(proposer.space) is not type(setup.space):
                raise GoalError(
                    f"proposer: it was built for the {proposer.space.name} space; task {setup.task.name!r} searches "
                    f"the {setup.space.name} space"
                )
            proposer.space = setup.space
        sources = transfer_sources(store, study.name, goal, setup.space.name)
        sources = [
            told[: transfer_counts.get(name, len(told))]
            for name, told in zip(search.transfer_from, sources, strict=True)
        ]
        if sources:
            proposer.warm_start(sources)
        book, spooled = TrialBook.load(goal, store, study, setup.space)
        front = StudyFront(goal, fixed_reference(goal, setup.space))
        for told in history(store, study, goal):  # in the order recorded: the order the proposer was told
            setup.space.observe(told.design, book.trials[told.number].info)
            proposer.tell(told.number, told.design, told.values, told.proposal)
            if told.values is not None:
                front.add(told.number, book.trials[told.number].metrics)
        scheduler = self._scheduler or make_scheduler(goal.scheduler)
        for event in store.events(study.id, "report"):  # the scheduler's state is its reports
            scheduler.report(int(event.trial_number or 0), event.payload["epoch"], event.payload["value"])
        gate = Gate(goal, store, study, setup.space)
        evidence = EvidenceRunner(gate, book, lambda d: _pieces(setup, scheduler, d), lambda d: _feasible(setup, d))
        evidence.recover()
        return Parts(book, evidence, proposer, scheduler, front, Spend.of(store, study.id), search), spooled


def _named(goal: Goal, proposer: Proposer | None, scheduler: Scheduler | None) -> Goal:
    """The goal with the given parts' names in it (the stored goal says which parts ran)."""
    if proposer is not None:
        search = goal.search.model_copy(update={"proposer": PROPOSER_PARTS.name_of(type(proposer)), "profile": None})
        goal = goal.model_copy(update={"search": search})
    if scheduler is not None:
        schedule = goal.scheduler.model_copy(update={"name": SCHEDULER_PARTS.name_of(type(scheduler))})
        goal = goal.model_copy(update={"scheduler": schedule})
    return goal


def _spools(executor: Executor, store: Store) -> bool:
    """Whether workers can write results to the store: the local pool's worker processes always; workers that may
    run on other machines only when the store is a server (a SQLite path means nothing there); not in-process."""
    if isinstance(executor, InlineExecutor):
        return False
    return isinstance(executor, LocalPool) or store.engine.dialect.name != "sqlite"


def eval_settings(goal: Goal, workers: int) -> EvalSettings:
    """How trials are measured: the goal's ``evaluation`` section, with torch threads per worker defaulting to the
    machine's cores shared among the workers."""
    e = goal.evaluation
    threads = e.threads or max(1, (os.cpu_count() or 1) // max(workers, 1))
    return EvalSettings(
        e.device,
        threads,
        e.latency_batch,
        latency_repeats=e.latency_repeats,
        power_w=e.power_w,
        target_accuracy=e.target_accuracy,
    )


def _pieces(setup: Setup, scheduler: Scheduler, design: Design) -> int:
    """How many pieces a trial of ``design`` may be trained in under the study's scheduler (1 without one)."""
    fidelities = setup.task.fidelities(design)
    brackets = setup.goal.scheduler.brackets
    return max(1, *(len(scheduler.stops(n, fidelities)) for n in range(brackets)))


def _feasible(setup: Setup, design: Design) -> bool:
    """Whether ``design`` may be proposed at all: valid in the space and within the constraints known up front."""
    try:
        setup.space.validate(design)
    except ValueError:
        return False
    return not setup.goal.constraints or not setup.goal.violations(setup.space.static_metrics(design))


def pinned_search(store: Store, study: StudyRecord, setup: Setup) -> tuple[Search, dict[str, int]]:
    """The search settings and transfer sources as they were when the study first ran: a profile edited or a source
    study grown since then does not change how a resumed study proposes."""
    pinned = store.events(study.id, "search_pinned")
    if pinned:
        payload = pinned[0].payload
        return Search.model_validate(payload["search"]), dict(payload["transfer"])
    counts = {
        name: len(history(store, record))
        for name in setup.search.transfer_from
        if (record := store.get_study(name)) is not None
    }
    store.log_event(study.id, "search_pinned", {"search": setup.search.model_dump(mode="json"), "transfer": counts})
    return setup.search, counts


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
