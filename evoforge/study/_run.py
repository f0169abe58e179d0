"""Running a study from a goal and names: the convenience the CLI and YAML goals use. It checks the run's
options, builds the executor they name and runs a ``Study``."""

from __future__ import annotations

from evoforge._errors import GoalError
from evoforge.executors import EXECUTOR_PARTS, Executor, make_executor
from evoforge.goal import Goal
from evoforge.proposers import Proposer
from evoforge.schedulers import Scheduler
from evoforge.storage import Store
from evoforge.study._loop import RunReport
from evoforge.study._study import Study
from evoforge.tasks import Task


def run_study(
    goal: Goal,
    storage: Store | str = "sqlite:///evoforge.db",
    workers: int | None = None,
    quiet: bool = True,
    executor: str | Executor = "local",
    address: str | None = None,
    standby: bool = False,
    *,
    task: Task | None = None,
    proposer: Proposer | None = None,
    scheduler: Scheduler | None = None,
) -> RunReport:
    """Run (or resume) the study that ``goal`` describes until its budget is spent.

    ``workers``: size of the local process pool (default: the machine's cores); 0 runs trials in this process.
    ``executor="ray"``: trials are Ray tasks, ``workers`` of them at once (default: the cluster's CPUs), on the
    cluster at ``address`` (default: a local Ray instance started for the run); any other name or import path of an
    ``Executor`` class, or an ``Executor`` object, runs them there. ``task``, ``proposer``, ``scheduler``: objects
    that replace the parts the goal names (see ``Study``).
    ``standby``: if another coordinator is running the study, wait and take over when it stops or dies (several
    coordinators, on any machines that reach the store, keep one study going) instead of refusing.
    Raises ``GoalError`` / ``StorageError`` before anything is written when the goal or storage is bad.
    """
    if workers is not None and workers < 0:
        raise GoalError(f"--workers: expected 0 or more, got {workers}")
    if executor == "ray" and goal.budget.trial_cpu_s is not None:
        raise GoalError("budget.trial_cpu_s: per-trial CPU-time caps are enforced by the local pool, not by Ray")
    capped = [k for k in ("trial_cpu_s", "trial_memory_mb") if getattr(goal.budget, k) is not None]
    if workers == 0 and capped:
        raise GoalError(f"budget.{capped[0]}: per-trial caps need worker processes (--workers 1 or more)")
    if isinstance(executor, str) and executor not in ("local", "ray"):
        EXECUTOR_PARTS.load(executor)  # an unknown name is refused before anything is written
    if address is not None and executor != "ray":
        raise GoalError("--address: only the ray executor joins a cluster")
    e = goal.evaluation
    gpus = e.gpus if e.gpus is not None else (1.0 if e.device == "cuda" else 0.0)

    def build() -> Executor:  # made once the run holds the study's lease, shut down after it
        assert isinstance(executor, str)
        return make_executor(executor, workers, address, cpus=float(e.threads or 1), gpus=gpus)

    where = executor if isinstance(executor, Executor) else build
    return Study(goal, storage, task=task, proposer=proposer, scheduler=scheduler, executor=where).run(
        quiet=quiet, standby=standby
    )
