"""Each trial records what it ran on, and `evoforge reproduce` re-runs it and says whether the result matches."""

from __future__ import annotations

import pytest

from evoforge import Store
from evoforge._errors import StorageError
from evoforge.cli import main
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from evoforge.study._reproduce import reproduce
from evoforge.study._runtime import code_hash
from tests.conftest import digits_goal, nb201_goal


def test_every_trial_records_its_seed_versions_device_and_code(storage: str) -> None:
    run_study(goal_from_dict(digits_goal(trials=2)), storage, workers=0)
    store = Store(storage)
    for t in store.trials(1):
        runtime = t.info["runtime"]
        assert t.seed and runtime["code_hash"] == code_hash() and runtime["device"] == "cpu"
        assert {"python", "torch", "numpy", "evoforge"} <= set(runtime["versions"])
        assert runtime["settings"]["threads"] >= 1


def test_a_trained_trial_reproduces_exactly(storage: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_study(goal_from_dict(digits_goal(trials=2)), storage, workers=0)
    assert main(["reproduce", "1", "--storage", storage]) == 0
    out = capsys.readouterr().out
    assert "re-run: MATCHES within 1e-06" in out and "val_accuracy" in out and "measured, not judged" in out
    store = Store(storage)
    assert store.events(1, "reproduced")[-1].payload["matches"] is True


def test_a_changed_result_or_environment_is_reported(storage: str) -> None:
    import sqlite3

    run_study(goal_from_dict(nb201_goal(trials=3)), storage, workers=0)
    store = Store(storage)
    study = store.get_study("nb")
    assert study is not None
    con = sqlite3.connect(storage.removeprefix("sqlite:///"))
    with con:  # as if the trial had run on other code
        con.execute(
            'UPDATE trials SET info_json = replace(info_json, \'"code_hash": "\', \'"code_hash": "0\') WHERE number = 2'
        )
    con.close()
    result = reproduce(store, study, 2)
    assert result["matches"]  # the table gives the same numbers ...
    changed = [e for e in result["environment"] if not e["same"]]
    assert [e["what"] for e in changed] == ["code_hash"]  # ... and the report names what differs


def test_reproducing_an_unknown_or_resultless_trial_is_refused(storage: str) -> None:
    goal = digits_goal(trials=2, constraints={"params": {"max": 3000}})
    goal["search"] = {"proposer": "random", "seed": 1}
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("digits")
    assert study is not None
    with pytest.raises(StorageError, match="trial 99 does not exist"):
        reproduce(store, study, 99)
    infeasible = next(t for t in store.trials(study.id) if t.state == "infeasible")
    with pytest.raises(StorageError, match=f"trial {infeasible.number} is infeasible"):
        reproduce(store, study, infeasible.number)
