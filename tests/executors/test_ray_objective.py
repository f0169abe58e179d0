"""A user's objective of their own on the real multi-node Ray cluster: trials are Ray tasks that import the user's
module, judge their own reports at the scheduler's rungs, and the evidence gate retrains on Ray too."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import evoforge
from evoforge import Store

pytest.importorskip("ray", reason="Ray is the ray extra (pip install evoforge[ray])")


def test_an_objective_of_ones_own_runs_on_the_ray_cluster_with_pruning_and_the_gate(
    ray_cluster: str, user_folder: Path
) -> None:
    objective = importlib.import_module("user_obj").objective
    url = f"sqlite:///{user_folder / 'study.db'}"
    goal = {"scheduler": {"name": "asha", "min_epochs": 1, "eta": 3}}
    result = evoforge.optimize(
        objective,
        study="on-ray",
        storage=url,
        objectives={"val_loss": "min"},
        trials=10,
        workers=2,
        goal=goal,
        executor="ray",
        address=ray_cluster,
    )
    assert result.stopped_because.startswith("trial budget of 10 trials spent")
    store = Store(url)
    study = store.get_study("on-ray")
    assert study is not None
    trials = store.trials(study.id)
    assert all(t.state in ("complete", "pruned", "duplicate") for t in trials) and any(
        t.state == "pruned" for t in trials
    )
    assert any(not e.payload["continue"] for e in store.events(study.id, "report"))
    assert store.replicates(study.id) and result.held_out is not None  # retrained on Ray, measured held out
