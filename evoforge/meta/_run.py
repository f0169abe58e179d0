from __future__ import annotations

import datetime
import inspect
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evoforge._errors import EvoforgeError, GoalError
from evoforge.goal import goal_from_dict
from evoforge.meta._space import CHOICES, settings_of
from evoforge.meta._suite import PROBLEMS, benchmark
from evoforge.profiles._profiles import NAME, Profile, save_profile
from evoforge.proposers._credit import PRIOR
from evoforge.proposers._guided import ROUTE_PRIORS, GuidedProposer
from evoforge.storage import Store, StudyRecord, TrialRecord

META_SEED_OFFSET = 100_000  # the meta task's default inner seeds start here
CONFIRM = 2000  # finalists are re-scored on inner seeds from META_SEED_OFFSET + CONFIRM


def built_in() -> dict[str, Any]:
    """The guided proposer's own defaults (constructor, route and operator priors), as a ProfileSpace design."""
    params = inspect.signature(GuidedProposer.__init__).parameters
    genes = {k: params[k].default for k in CHOICES if "." not in k}
    genes["tournament"] = genes["tournament"] or max(2, genes["population"] // 2)  # the constructor's rule
    for key in CHOICES:
        kind, _, name = key.partition(".")
        if kind == "route_priors":
            genes[key] = ROUTE_PRIORS[name]
        elif kind == "operator_priors":
            genes[key] = PRIOR
    return genes


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
            "start_from": built_in(),
        },
        # The profile is chosen by re-scoring finalists on fresh seeds (``confirm``), not by the meta study's own
        # champion, so its promotion evidence is kept cheap: two seeds, no attribution of profile settings.
        "oversight": {"noise_margin": 0.0, "seeds": 2, "attribution": {"enabled": False}},
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
    finalists: int = 5,
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
    pick, table, held_out = confirm(store, record, path, problems, runs, queries, finalists=finalists)
    profile = Profile(
        name=save,
        proposer="guided",
        settings=settings_of(pick.design.genes),
        found_by=command,
        tuning={
            "study": study,
            "problems": list(problems),
            "runs": runs,
            "queries": queries,
            "trials": trials,
            "trial": pick.number,
            "meta_score": pick.metrics["meta_score"],
            "finalists": table,
            "held_out_meta_score": held_out,
            "date": datetime.date.today().isoformat(),
        },
    )
    return save_profile(profile, Path(out) if out else None), profile


def confirm(
    store: Store,
    record: StudyRecord,
    path: str,
    problems: Sequence[str],
    runs: int,
    queries: int,
    *,
    finalists: int,
) -> tuple[TrialRecord, list[dict[str, Any]], float]:
    """Choose the profile without trusting one noisy score: the ``finalists`` best trials are re-run on
    ``2 * runs`` fresh inner seeds per problem, the pick is the best pooled mean over both sets of seeds, and the
    pick alone is then scored on a third set of seeds that played no part in any choice (its held-out score).
    Each step is recorded as a ``meta_confirm`` event of the meta study."""
    from evoforge.meta._task import HELD_OUT, search_of

    trials = [t for t in store.trials(record.id, states=("complete",)) if "meta_score" in t.metrics]
    if not trials:
        raise EvoforgeError(f"meta study {record.name!r} has no finished trial (all failed); see `evoforge trials`")
    trials.sort(key=lambda t: -t.metrics["meta_score"])
    chosen = trials[:finalists]
    offset = META_SEED_OFFSET + CONFIRM

    def score(t: TrialRecord, first: int, n: int) -> dict[str, Any]:
        search = search_of(t.design.genes)
        return benchmark(path, list(problems), search, [first + r for r in range(n)], queries)

    table = []
    for t in chosen:
        again = score(t, offset, 2 * runs)
        pooled = (runs * t.metrics["meta_score"] + 2 * runs * again["score"]) / (3 * runs)
        row = {"trial": t.number, "meta_score": t.metrics["meta_score"], "confirm_score": again["score"]}
        row["pooled"] = pooled
        table.append(row)
        store.log_event(record.id, "meta_confirm", row, trial_number=t.number)
    best = max(table, key=lambda r: r["pooled"])
    pick = next(t for t in chosen if t.number == best["trial"])
    held_out = float(score(pick, META_SEED_OFFSET + HELD_OUT, 2 * runs)["score"])
    store.log_event(record.id, "meta_confirm", {"pick": pick.number, "held_out": held_out}, trial_number=pick.number)
    return pick, table, held_out


def command_line(argv: Sequence[str]) -> str:
    return "evoforge " + shlex.join(argv)
