"""The designer through the whole study loop: duplicates never trained, profiles, transfer, what status shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge import GoalError, Store
from evoforge.goal import Search, goal_from_dict
from evoforge.profiles import load_profile, resolve
from evoforge.study import run_study, status_view
from evoforge.study._setup import prepare
from tests.conftest import NB201_PATH, nb201_goal, strip_audit_chain


def _guided(study: str, trials: int, **search: object) -> dict:  # type: ignore[type-arg]
    return nb201_goal(study, trials, search={"seed": 0, **search})


def test_random_search_never_trains_a_function_twice(storage: str) -> None:
    run_study(goal_from_dict(nb201_goal("rnd", 150, search={"proposer": "random", "seed": 3})), storage, workers=0)
    store = Store(storage)
    study = store.get_study("rnd")
    assert study is not None
    trials = store.trials(study.id)
    from evoforge.spaces import NB201Space

    space = NB201Space()
    trained = [t for t in trials if t.state == "complete"]
    keys = [space.canonical(t.design) for t in trained]
    assert len(trained) == 150 and len(set(keys)) == 150  # the budget counts trainings only
    dups = [t for t in trials if t.state == "duplicate"]
    assert dups, "150 random NB201 cells always include some that compute the same function"
    first = {space.canonical(t.design): t.number for t in trained}
    for d in dups:
        assert d.error == f"computes the same function as trial {first[space.canonical(d.design)]}; not trained again"
        assert not d.metrics


def test_a_goal_without_a_proposer_gets_the_default_profile(storage: str) -> None:
    search = resolve(Search())
    default = load_profile("default")
    assert search.profile == "default" and search.proposer == default.proposer == "guided"
    assert search.population == default.settings.get("population")
    run_study(goal_from_dict(_guided("g", 40)), storage, workers=0)
    store = Store(storage)
    study = store.get_study("g")
    assert study is not None
    designer = status_view(store, study)["designer"]
    assert designer["proposer"] == "guided" and designer["profile"] == "default"
    assert designer["predictor"]["points"] == 40
    assert set(designer["operators"]) == {"swap_edge_op", "exchange_edges"}
    assert sum(a["weight"] for a in designer["operators"].values()) == pytest.approx(1.0)
    assert len(designer["rank_correlation"]) >= 2 and designer["mean_rank_correlation"] is not None
    assert [h["after"] for h in designer["operator_history"]] == [10, 20, 30, 40]


def test_transfer_warm_starts_the_predictor_and_credit(storage: str) -> None:
    run_study(goal_from_dict(_guided("source", 40)), storage, workers=0)
    goal = goal_from_dict(_guided("target", 12, transfer_from=["source"]))
    run_study(goal, storage, workers=0)
    store = Store(storage)
    study = store.get_study("target")
    assert study is not None
    designer = status_view(store, study)["designer"]
    assert designer["transfer_from"] == ["source"]
    assert designer["predictor"]["transferred_points"] == 40
    trials = store.trials(study.id)
    # With a prior the very first proposals are already predicted and chosen by acquisition (no random phase).
    assert any("predicted" in t.rationale for t in trials[:3])


def test_transfer_names_a_study_that_is_not_there_or_is_not_alike(storage: str, tmp_path: Path) -> None:
    run_study(goal_from_dict(_guided("source", 5)), storage, workers=0)
    with pytest.raises(GoalError, match=r"transfer_from: no study named 'nope' in this store \(studies: source\)"):
        run_study(goal_from_dict(_guided("t", 5, transfer_from=["nope"])), storage, workers=0)
    with pytest.raises(GoalError, match="transfer_from: 'source' is this study"):
        run_study(goal_from_dict(_guided("source", 5, transfer_from=["source"])), storage, workers=0)
    meta = {
        "study": "profiles",
        "task": {"name": "search_benchmark", "path": NB201_PATH, "problems": ["nb201-val12"], "runs": 1, "queries": 10},
        "objectives": {"meta_score": "max"},
        "budget": {"trials": 2},
        "search": {"proposer": "random"},
    }
    run_study(goal_from_dict(meta), storage, workers=0)
    with pytest.raises(GoalError, match="searched the search_profile space, this one the nb201 space"):
        run_study(goal_from_dict(_guided("t", 5, transfer_from=["profiles"])), storage, workers=0)
    store = Store(storage)
    assert store.get_study("t") is None  # refused before anything was written


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ({"profile": "nope"}, r"search.profile: no profile named 'nope' \(known: .*default"),
        ({"options": {"candidatez": 5}}, "search.options.candidatez: the guided proposer has no such setting"),
        ({"proposer": "evolution", "options": {"candidates": 5}}, "options.candidates: the evolution proposer"),
        ({"profile": "default", "proposer": "random"}, "conflicts with profile 'default', which uses 'guided'"),
        ({"population": 4, "tournament": 6}, "tournament"),
        ({"options": {"acquisition": "pi"}}, "search.options: acquisition: unknown 'pi'"),
        ({"profile": "../etc"}, "is not a profile name"),
    ],
)
def test_bad_search_settings_are_refused_before_a_trial(search: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(GoalError, match=message):
        prepare(goal_from_dict(nb201_goal("x", 5, search=search)))


def test_a_saved_profile_is_selected_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evoforge.profiles import Profile, save_profile

    monkeypatch.setenv("EVOFORGE_PROFILES", str(tmp_path))
    settings = {"population": 12, "tournament": 3, "candidates": 40, "acquisition": "ucb", "kappa": 1.0}
    save_profile(Profile(name="mine", proposer="guided", settings=settings, found_by="a test"))
    proposer = prepare(goal_from_dict(nb201_goal("x", 5, search={"profile": "mine", "seed": 4}))).proposer()
    assert proposer.candidates == 40 and proposer.acquisition == "ucb" and proposer.tournament == 3  # type: ignore[attr-defined]
    assert proposer.population.maxlen == 12 and proposer.seed == 4  # type: ignore[attr-defined]
    # A goal's own fields override the profile's.
    over = prepare(goal_from_dict(nb201_goal("x", 5, search={"profile": "mine", "options": {"candidates": 7}})))
    assert over.proposer().candidates == 7  # type: ignore[attr-defined]


def test_a_study_from_before_profiles_resumes_with_the_search_it_began_with(storage: str) -> None:
    import json

    goal = nb201_goal("old", 10)
    del goal["search"]
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("old")
    assert study is not None
    # Rewrite the stored goal as an older evoforge stored it: the search section with its defaults filled in.
    stored = json.loads(study.goal_json)
    stored["search"] = {"proposer": "evolution", "population": 16, "tournament": None, "seed": 0, "start_from": None}
    from sqlalchemy import update

    from evoforge.storage import _schema as t

    with store.engine.begin() as c:
        c.execute(update(t.studies).where(t.studies.c.id == study.id).values(goal_json=json.dumps(stored)))
    store.engine.dispose()
    with store.engine.begin() as c:  # no pinned search either, as in an old store
        c.execute(t.events.delete().where(t.events.c.kind == "search_pinned"))
    store.engine.dispose()
    strip_audit_chain(storage)  # nor an audit chain: the store is upgraded when next opened
    goal["budget"] = {"trials": 14}
    run_study(goal_from_dict(goal), storage, workers=0)
    trials = Store(storage).trials(study.id)
    assert len(trials) >= 14 and {t.proposer for t in trials[10:]} == {"evolution"}


def test_a_resumed_study_keeps_its_pinned_profile(
    storage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evoforge.profiles import Profile, save_profile

    monkeypatch.setenv("EVOFORGE_PROFILES", str(tmp_path))
    save_profile(Profile(name="p", proposer="guided", settings={"candidates": 30, "exhaustive": 0}, found_by="a test"))
    run_study(goal_from_dict(_guided("pin", 12, profile="p")), storage, workers=0)
    save_profile(
        Profile(name="p", proposer="guided", settings={"candidates": 99, "exhaustive": 0}, found_by="edited later")
    )
    run_study(goal_from_dict(_guided("pin", 24, profile="p")), storage, workers=0)
    store = Store(storage)
    study = store.get_study("pin")
    assert study is not None
    pinned = store.events(study.id, "search_pinned")
    assert len(pinned) == 1 and pinned[0].payload["search"]["options"]["candidates"] == 30
    counts = [
        e.payload["info"]["candidates"]
        for e in store.events(study.id, "proposed")
        if "candidates" in e.payload.get("info", {})
    ]
    assert counts and max(counts) <= 30  # the pinned profile's candidates, not the edited 99
