"""Running a study from a goal: open or resume it in the store, take its lease, and drive the coordinator."""

from __future__ import annotations

import os

from evoforge._errors import GoalError
from evoforge.executors import Executor
from evoforge.goal import Goal, goal_from_json
from evoforge.oversight import require_intact
from evoforge.storage import Store, StoreUnavailable, StudyRecord
from evoforge.study._history import transfer_sources
from evoforge.study._lease import take_lease
from evoforge.study._loop import Coordinator, RunReport
from evoforge.study._progress import Progress
from evoforge.study._setup import prepare


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


def run_study(
    goal: Goal,
    storage: str = "sqlite:///evoforge.db",
    workers: int | None = None,
    quiet: bool = True,
    executor: str = "local",
    address: str | None = None,
    standby: bool = False,
) -> RunReport:
    """Run (or resume) the study that ``goal`` describes until its budget is spent.

    ``workers``: size of the local process pool (default: the machine's cores); 0 runs trials in this process.
    ``executor="ray"``: trials are Ray tasks, ``workers`` of them at once (default: the cluster's CPUs), on the
    cluster at ``address`` (default: a local Ray instance started for the run).
    ``standby``: if another coordinator is running the study, wait and take over when it stops or dies (several
    coordinators, on any machines that reach the store, keep one study going) instead of refusing.
    Raises ``GoalError`` / ``StorageError`` before anything is written when the goal or storage is bad.
    """
    if workers is not None and workers < 0:
        raise GoalError(f"--workers: expected 0 or more, got {workers}")
    if executor not in ("local", "ray"):
        raise GoalError(f"--executor: expected local or ray, got {executor!r}")
    if executor == "ray" and goal.budget.trial_cpu_s is not None:
        raise GoalError("budget.trial_cpu_s: per-trial CPU-time caps are enforced by the local pool, not by Ray")
    capped = [k for k in ("trial_cpu_s", "trial_memory_mb") if getattr(goal.budget, k) is not None]
    if workers == 0 and capped:
        raise GoalError(f"budget.{capped[0]}: per-trial caps need worker processes (--workers 1 or more)")
    setup = prepare(goal)
    store = Store(storage)
    adopted = adopt_stored_search(store, goal)
    if adopted is not goal:
        goal, setup = adopted, prepare(adopted)
    transfer_sources(store, goal.study, goal, setup.space.name)  # checked before anything is written
    study = open_study(store, goal)
    require_intact(store, study)
    owner = take_lease(store, study, wait=standby, quiet=quiet)
    asked, workers = workers, os.cpu_count() or 1 if workers is None else workers
    reachable = True
    try:
        apply_budget(store, study, goal)
        runner = _executor(executor, asked if executor == "ray" else workers, address, goal)
        try:
            # Workers spool results to the store when they can reach it: local pool workers always; Ray workers,
            # which may run on other machines, when the store is a server (a SQLite path means nothing there).
            server = store.engine.dialect.name != "sqlite"
            spool = (executor == "local" and workers > 0) or (executor == "ray" and server)
            coordinator = Coordinator(setup, store, study, runner, runner.capacity, owner, spool=spool)
            progress = Progress(goal.budget.trials, coordinator.done, quiet=quiet)
            try:
                return coordinator.run(progress)
            finally:
                progress.close()
        finally:
            runner.shutdown()
    except StoreUnavailable:
        reachable = False  # the lease lapses by itself: this process is gone when the next run looks at it
        raise
    finally:
        if reachable:
            store.release_lease(study.id, owner)


def _executor(kind: str, workers: int | None, address: str | None, goal: Goal) -> Executor:
    """The local pool (``workers`` processes; 0: this process), or Ray tasks, ``workers`` at once (None: as many as
    the cluster has room for), each asking for the goal's ``evaluation.threads`` CPUs (1 by default) and
    ``evaluation.gpus`` GPUs (by default 1 with ``device: cuda``, else none)."""
    from evoforge.executors import InlineExecutor, LocalPool

    if kind == "ray":
        try:
            from evoforge.executors._ray import RayExecutor
        except ImportError:
            raise GoalError("--executor ray: Ray is not installed (pip install evoforge[ray])") from None
        import ray

        e = goal.evaluation
        cpus = float(e.threads or 1)
        gpus = e.gpus if e.gpus is not None else (1.0 if e.device == "cuda" else 0.0)
        executor = RayExecutor(max(workers or 1, 1), address, cpus=cpus, gpus=gpus)
        if not workers:  # as many trials at once as the cluster's CPUs (and GPUs, for GPU trials) hold
            room = ray.cluster_resources()
            fits = [room.get("CPU", 0) / cpus] + ([room.get("GPU", 0) / gpus] if gpus else [])
            executor.capacity = max(1, int(min(fits)))
        return executor
    return LocalPool(workers) if workers else InlineExecutor()
