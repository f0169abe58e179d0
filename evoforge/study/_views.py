"""Read-only views of a study for people and scripts: status, lineage and trials, as plain data."""

from __future__ import annotations

from collections import Counter
from typing import Any

from evoforge._errors import StorageError
from evoforge.goal import Goal, goal_from_json
from evoforge.pareto import non_dominated_sort
from evoforge.predictors import spearman
from evoforge.storage import TRIAL_STATES, Store, StudyRecord, TrialRecord
from evoforge.study._history import proposal_infos


def find_study(store: Store, name: str | None) -> StudyRecord:
    if name is not None:
        record = store.get_study(name)
        if record is None:
            known = ", ".join(s.name for s in store.studies()) or "none"
            raise StorageError(f"--study: no study named {name!r} in {store.url} (studies: {known})")
        return record
    studies = store.studies()
    if len(studies) != 1:
        names = ", ".join(s.name for s in studies)
        raise StorageError(f"--study: {store.url} holds {len(studies)} studies ({names or 'none'}); name one")
    return studies[0]


def ancestry(trials: dict[int, TrialRecord], number: int, metric: str) -> list[dict[str, Any]]:
    """The chain of first parents from the root to trial ``number``, with the operator and rationale of each, and
    its value of ``metric`` (the study's first objective)."""
    chain: list[dict[str, Any]] = []
    current: int | None = number
    while current is not None and current in trials and len(chain) < 10_000:
        t = trials[current]
        chain.append(
            {
                "trial": t.number,
                "design": t.design.hash,
                "operator": t.operator,
                "rationale": t.rationale,
                "value": t.metrics.get(metric),
            }
        )
        current = t.parents[0] if t.parents else None
    return chain[::-1]


def status_view(store: Store, study: StudyRecord) -> dict[str, Any]:
    goal = goal_from_json(study.goal_json)
    counts = {state: 0 for state in TRIAL_STATES}
    counts.update(store.count_trials(study.id))
    gens = store.generations(study.id)
    champion = None
    if gens:
        g = gens[-1]
        (trial,) = store.trials(study.id, numbers=(g.trial_number,))
        champion = {
            "generation": g.number,
            "trial": g.trial_number,
            "design": g.design.hash,
            "metrics": trial.metrics,
            "held_out": _held_out(goal, g.held_out),
            "estimated": trial.info.get("estimated", []),
            "measured_on": {k: trial.info[k] for k in ("device", "threads", "latency_batch") if k in trial.info},
            **({"params": trial.info["params"]} if "params" in trial.info else {}),  # an objective's, as received
        }
    return {
        "study": study.name,
        "task": goal.task["name"],
        "objectives": dict(goal.objectives),
        "preference": goal.preference.model_dump(exclude_defaults=True) if goal.preference else None,
        "budget": goal.budget.model_dump(),
        "generation": gens[-1].number if gens else None,
        "trials": counts,
        "promotions": dict(Counter(c.state for c in store.promotions(study.id)).most_common()),
        "champion": champion,
        "front": front_view(store, study, goal) if len(goal.objectives) > 1 else None,
        "designer": designer_view(store, study, goal),
        "sandbox": _sandbox_note(goal),
    }


def _held_out(goal: Goal, value: float | None) -> dict[str, Any]:
    """A champion's held-out score: the judged metric's mean over its evidence retrainings, and what it says."""
    metric = goal.objective[0]
    where = "held-out split, mean of the promotion's evidence retrainings (the case's evidence says what was measured)"
    return {"metric": metric, "value": value, "measured_on": where}


def _sandbox_note(goal: Goal) -> str | None:
    """How generated code is contained on this machine, for tasks that run it (None for the others)."""
    from evoforge.tasks import task_class

    if not task_class(str(goal.task["name"])).sandboxed:
        return None
    from evoforge.sandbox import isolation

    return isolation().note


def rank_correlations(
    store: Store, study: StudyRecord, goal: Goal, batch: int = 10, trials: list[TrialRecord] | None = None
) -> list[dict[str, Any]]:
    """For each batch of ``batch`` trials (in proposal order) that carried a prediction and were measured, the
    Spearman rank correlation between the predicted and the measured value of the first objective. ``trials``: the
    study's trials if the caller has them already (else they are read)."""
    infos = proposal_infos(store, study.id)
    metric, direction = next(iter(goal.objectives.items()))
    sign = 1.0 if direction == "max" else -1.0
    pairs = []
    for t in store.trials(study.id, states=("complete",)) if trials is None else trials:
        if t.state != "complete":
            continue
        predicted = infos.get(t.number, {}).get("predicted")
        if predicted is not None and metric in t.metrics:
            pairs.append((t.number, float(predicted), sign * float(t.metrics[metric])))
    out = []
    for start in range(0, len(pairs) - batch + 1, batch):
        chunk = pairs[start : start + batch]
        rho = spearman([p for _, p, _ in chunk], [m for _, _, m in chunk])
        out.append({"trials": [chunk[0][0], chunk[-1][0]], "n": len(chunk), "spearman": rho})
    return out


def designer_view(
    store: Store, study: StudyRecord, goal: Goal, trials: list[TrialRecord] | None = None
) -> dict[str, Any] | None:
    """What the proposer has learned, as last recorded (operator and route weights, the predictor's fit), how
    the operator weights moved, and the predictor's rank correlation batch by batch; None for proposers that
    learn nothing."""
    events = store.events(study.id, "designer")
    correlations = rank_correlations(store, study, goal, trials=trials)
    if not events and not correlations:
        return None
    latest = events[-1].payload if events else {}
    valid = [c["spearman"] for c in correlations if c["spearman"] is not None]
    return {
        **latest,
        "operator_history": [
            {
                "after": e.payload["after"],
                "weights": {k: v["weight"] for k, v in e.payload.get("operators", {}).items()},
            }
            for e in events
        ],
        "rank_correlation": correlations,
        "mean_rank_correlation": sum(valid) / len(valid) if valid else None,
    }


def front_view(store: Store, study: StudyRecord, goal: Goal) -> dict[str, Any]:
    """The Pareto front of the feasible complete trials, best first by the first objective, with the hypervolume
    recorded after each trial."""
    trials = store.trials(study.id, states=("complete",))
    scored = [(t, v) for t in trials if (v := goal.values(t.metrics)) is not None]
    ranks = non_dominated_sort([v for _, v in scored])
    members = sorted((pair for pair, r in zip(scored, ranks, strict=True) if r == 0), key=lambda p: p[1], reverse=True)
    history = [  # after every trial that ended, in the order they ended
        (e.trial_number, e.payload["hypervolume"])
        for e in store.events(study.id)
        if e.kind in ("complete", "failed", "pruned") and "hypervolume" in e.payload
    ]
    return {
        "objectives": dict(goal.objectives),
        "hypervolume": history[-1][1] if history else 0.0,
        "hypervolume_history": history,
        "members": [
            {"trial": t.number, "design": t.design.hash, "metrics": t.metrics, "estimated": t.info.get("estimated", [])}
            for t, _ in members
        ],
    }


def lineage_view(store: Store, study: StudyRecord) -> dict[str, Any]:
    trials = {t.number: t for t in store.trials(study.id)}
    goal = goal_from_json(study.goal_json)
    metric, direction = goal.objective
    generations = []
    previous = None
    for g in store.generations(study.id):
        generations.append(
            {
                "generation": g.number,
                "trial": g.trial_number,
                "design": g.design.hash,
                "metric": metric,
                "score": -g.score if direction == "min" else g.score,  # in the metric's own units
                "held_out": g.held_out,
                "reason": g.reason,
                "changes": previous.design.diff(g.design) if previous else [],
                "ancestry": ancestry(trials, g.trial_number, next(iter(goal.objectives))),
            }
        )
        previous = g
    edges = [{"child": t.number, "parent": p, "operator": t.operator} for t in trials.values() for p in t.parents]
    front = front_view(store, study, goal) if len(goal.objectives) > 1 else None
    designer = designer_view(store, study, goal, list(trials.values()))
    return {"study": study.name, "generations": generations, "edges": edges, "front": front, "designer": designer}


def trial_row(t: TrialRecord, proposal: dict[str, Any] | None = None) -> dict[str, Any]:
    """A trial as JSON; ``proposal`` is what its proposer recorded with it (a prediction; for a language model the
    prompt, the reply, the diff and the tokens spent), from ``proposal_infos``."""
    return {
        "trial": t.number,
        "state": t.state,
        "design": t.design.hash,
        "proposer": t.proposer,
        "operator": t.operator,
        "parents": list(t.parents),
        "rationale": t.rationale,
        "seed": t.seed,
        "metrics": t.metrics,
        "estimated": t.info.get("estimated", []),  # metrics that are estimates, not readings (e.g. energy_j)
        "error": t.error,
        "attempts": t.attempts,
        "genes": t.design.genes,
        "proposal": proposal or {},
        # An objective's trial: the parameters it actually received (drawn ones included) and what it kept.
        **{k: t.info[k] for k in ("params", "user_attrs") if k in t.info},
    }
