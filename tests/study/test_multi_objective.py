from __future__ import annotations

from evoforge import Store
from evoforge.goal import goal_from_dict
from evoforge.pareto import dominates, hypervolume
from evoforge.study import lineage_view, run_study, status_view
from tests.conftest import nb201_goal

TWO = {"val_accuracy": "max", "params": "min"}


def _run(storage: str, trials: int, **extra: object):  # type: ignore[no-untyped-def]
    goal = goal_from_dict(nb201_goal(trials=trials, objectives=TWO, reference={"params": 2e6}, **extra))
    run_study(goal, storage, workers=0)
    store = Store(storage)
    study = store.get_study("nb")
    assert study is not None
    return goal, store, study


def test_status_shows_the_whole_front_and_it_is_non_dominated(storage: str) -> None:
    goal, store, study = _run(storage, 60)
    front = status_view(store, study)["front"]
    points = {m["trial"]: goal.values(m["metrics"]) for m in front["members"]}
    everyone = [goal.values(t.metrics) for t in store.trials(study.id)]
    assert len(points) >= 2
    for p in points.values():
        assert not any(q is not None and dominates(q, p) for q in everyone)
    assert lineage_view(store, study)["front"]["members"] == front["members"]


def test_hypervolume_is_recorded_after_every_trial_and_never_falls(storage: str) -> None:
    goal, store, study = _run(storage, 40)
    history = status_view(store, study)["front"]["hypervolume_history"]
    assert [n for n, _ in history] == list(range(40))
    values = [hv for _, hv in history]
    assert values == sorted(values) and values[-1] > 0
    points = [goal.values(t.metrics) for t in store.trials(study.id)]
    assert values[-1] == hypervolume([p for p in points if p], (0.0, -2e6))


def test_the_champion_is_the_preferred_point_of_the_front(storage: str) -> None:
    where = {"objective": "val_accuracy", "where": {"params": {"max": 4e5}}}
    goal, store, study = _run(storage, 60, preference=where)
    champion = status_view(store, study)["champion"]
    assert champion["metrics"]["params"] <= 4e5
    small = [t.metrics["val_accuracy"] for t in store.trials(study.id, ("complete",)) if t.metrics["params"] <= 4e5]
    assert max(small) - champion["metrics"]["val_accuracy"] <= 0.0025  # best under the bound, within the margin
    assert any(t.metrics["params"] > 4e5 for t in store.trials(study.id))  # a soft bound: others were evaluated


def test_weights_trade_objectives_in_their_units(storage: str) -> None:
    weights = {"weights": {"val_accuracy": 1.0, "params": 1e-7}}  # 1M parameters cost 0.1 of accuracy
    goal, store, study = _run(storage, 40, preference=weights)
    champion = status_view(store, study)["champion"]["metrics"]
    utility = [t.metrics["val_accuracy"] - 1e-7 * t.metrics["params"] for t in store.trials(study.id)]
    assert max(utility) - (champion["val_accuracy"] - 1e-7 * champion["params"]) <= 0.0025


def test_a_resumed_study_reports_the_same_hypervolumes(storage: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Reference for params not given: pinned by the first trial, the same way on resume.
    data = nb201_goal(trials=20, objectives=TWO)
    run_study(goal_from_dict(data), storage, workers=0)
    run_study(goal_from_dict({**data, "budget": {"trials": 40}}), storage, workers=0)
    other = f"sqlite:///{tmp_path / 'straight.db'}"
    run_study(goal_from_dict({**data, "budget": {"trials": 40}}), other, workers=0)
    a, b = Store(storage), Store(other)
    hv = [status_view(s, s.studies()[0])["front"]["hypervolume_history"] for s in (a, b)]
    assert hv[0] == hv[1]
