from __future__ import annotations

import datetime
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evoforge._errors import EvoforgeError, GoalError
from evoforge.goal import goal_from_dict
from evoforge.meta._space import settings_of
from evoforge.meta._suite import PROBLEMS
from evoforge.profiles._profiles import NAME, Profile, save_profile
from evoforge.storage import Store

# The guided proposer's constructor defaults, as a ProfileSpace design.
BUILT_IN: dict[str, Any] = {
    "population": 16,
    "tournament": 8,
    "initial": 10,
    "candidates": 100,
    "acquisition": "ei",
    "kappa": 2.0,
    "parents": 5,
    "random_share": 0.1,
    "two_step_share": 0.25,
    "floor": 0.2,
    "route_priors.predictor": 0.5,
    "route_priors.evolution": 0.3,
    "operator_priors.swap_edge_op": 0.3,
    "operator_priors.exchange_edges": 0.3,
}


def meta_goal(
    study: str,
    *,
    path: str,
    problems: Sequence[str],
    runs: int,
    queries: int,
    trials: int,
    seed: int,
) -> dict[str, Any]:
    """The goal of a meta study: search profiles (``ProfileSpace``) judged by ``meta_score`` on the problems."""
    return {
        "study": study,
        "task": {
            "name": "search_benchmark",
            "path": path,
            "problems": list(problems),
            "runs": runs,
            "queries": queries,
        },
        "objectives": {"meta_score": "max"},
        "budget": {"trials": trials, "trial_timeout_s": 3600},
        # The meta search names its proposer and settings itself: it must not depend on the profile it produces.
        # It starts from the guided proposer's built-in settings, so the profile it finds is judged against them.
        "search": {
            "proposer": "guided",
            "population": 8,
            "seed": seed,
            "options": {"initial": 8, "candidates": 100},
            "start_from": BUILT_IN,
        },
        "oversight": {"noise_margin": 0.0},
    }


def run_meta(
    save: str,
    *,
    storage: str,
    path: str,
    problems: Sequence[str],
    runs: int,
    queries: int,
    trials: int,
    seed: int,
    workers: int | None,
    out: str | None,
    command: str,
    quiet: bool = True,
) -> tuple[Path, Profile]:
    """Tune the ``guided`` proposer's settings with evoforge's own search (a study in ``storage``, resumable like
    any other) and save the champion as profile ``save``. Returns the file written and the profile."""
    from evoforge.study import run_study

    if not NAME.match(save):
        raise GoalError(f"--save: {save!r} is not a profile name (letters, digits, _ . -)")
    unknown = [p for p in problems if p not in PROBLEMS]
    if unknown:
        raise GoalError(f"--problems: unknown problem {unknown[0]!r} (known: {', '.join(PROBLEMS)})")
    study = f"meta-{save}"
    goal = goal_from_dict(
        meta_goal(study, path=path, problems=problems, runs=runs, queries=queries, trials=trials, seed=seed), "meta"
    )
    run_study(goal, storage, workers, quiet=quiet)
    store = Store(storage, create=False)
    record = store.get_study(study)
    assert record is not None
    gens = store.generations(record.id)
    if not gens:
        raise EvoforgeError(f"meta study {study!r} produced no champion (every trial failed); see `evoforge trials`")
    champion = gens[-1]
    settings = settings_of(champion.design.genes)
    profile = Profile(
        name=save,
        proposer="guided",
        settings=settings,
        found_by=command,
        tuning={
            "study": study,
            "problems": list(problems),
            "runs": runs,
            "queries": queries,
            "trials": trials,
            "meta_score": champion.score,
            "held_out_meta_score": champion.test_accuracy,
            "champion_trial": champion.trial_number,
            "date": datetime.date.today().isoformat(),
        },
    )
    return save_profile(profile, Path(out) if out else None), profile


def command_line(argv: Sequence[str]) -> str:
    return "evoforge " + shlex.join(argv)
