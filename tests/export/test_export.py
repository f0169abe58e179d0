"""An exported champion loads and reproduces its test accuracy in a process where evoforge cannot be imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evoforge import EvoforgeError, Store
from evoforge.export import export_champion
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from evoforge.tasks import make_task
from tests.conftest import digits_goal, nb201_goal

CHECK = """
import importlib.abc, json, sys

class NoEvoforge(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "evoforge":
            raise ImportError("evoforge is blocked in this process")

sys.meta_path.insert(0, NoEvoforge())
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
import model

net = model.load(sys.argv[1] + "/weights.safetensors")
data = np.load(sys.argv[2])
with torch.no_grad():
    predictions = net(torch.from_numpy(data["x"])).argmax(dim=1).numpy()
print(json.dumps({"accuracy": float((predictions == data["y"]).mean()), "modules": sorted(sys.modules)}))
"""


DEPLOYED = {"quantize": "int8", "channels_last": True, "prune": 0.5}


@pytest.mark.parametrize(
    "deploy", [None, DEPLOYED, {"precision": "bf16"}], ids=["fp32", "int8-channels-last-pruned", "bf16"]
)
def test_export_round_trip_without_evoforge(tmp_path: Path, storage: str, deploy: dict | None) -> None:
    goal = digits_goal(trials=3)
    if deploy:  # one trial: the champion is the starting design, deployed with these efficiency genes
        start = {**goal["search"]["start_from"], "deploy": deploy}
        start["arch"] = {**start["arch"], "hidden": [32]}  # a dense layer for int8 to quantize
        goal = digits_goal(
            trials=1,
            space={
                **goal["space"],
                "quantize": ["none", "int8"],
                "channels_last": [False, True],
                "prune": [0.0, 0.5],
                "precisions": ["fp32", "bf16"],
            },
        )
        goal["search"]["start_from"] = start
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("digits")
    assert study is not None
    out = tmp_path / "export"
    paths = export_champion(store, study, out)
    assert sorted(p.name for p in paths) == ["card.json", "model.py", "weights.safetensors"]
    card = json.loads((out / "card.json").read_text())
    assert card["design"]["hash"] == store.generations(study.id)[-1].design.hash and card["lineage"]

    splits = make_task({"name": "digits"}).splits  # type: ignore[attr-defined]
    np.savez(tmp_path / "test.npz", x=splits.x_test, y=splits.y_test)
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(out), str(tmp_path / "test.npz")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    report = json.loads(result.stdout)
    assert not any(m.startswith("evoforge") for m in report["modules"])
    assert report["accuracy"] == pytest.approx(card["held_out"]["these_weights"]["test_accuracy"], abs=1e-9)
    source = (out / "model.py").read_text()
    assert "evoforge" not in source.split('"""', 2)[2]  # the code itself never refers to evoforge
    if deploy:
        assert card["design"]["genes"]["deploy"] == deploy


def test_tabular_champions_export_a_card_only(tmp_path: Path, storage: str) -> None:
    run_study(goal_from_dict(nb201_goal(trials=5)), storage, workers=0)
    store = Store(storage)
    study = store.get_study("nb")
    assert study is not None
    paths = export_champion(store, study, tmp_path / "out")
    assert [p.name for p in paths] == ["card.json"]
    assert "tabular" in json.loads(paths[0].read_text())["note"]


def test_a_study_without_champion_has_nothing_to_export(tmp_path: Path, storage: str) -> None:
    store = Store(storage)
    study = store.create_study("empty", goal_from_dict(nb201_goal()).to_json())
    with pytest.raises(EvoforgeError, match="no champion yet"):
        export_champion(store, study, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_export_needs_only_the_store_not_the_data(tmp_path: Path, storage: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4)).astype(np.float32) * 5 + 3
    y = (x[:, 0] > 3).astype(np.int64)
    data = tmp_path / "data.npz"
    np.savez(data, x=x, y=y)
    goal = digits_goal(trials=2, task={"name": "arrays", "path": str(data)}, space={"epochs": [1, 4]})
    goal["search"] = {"proposer": "random", "seed": 0}
    run_study(goal_from_dict(goal), storage, workers=0)
    data.unlink()  # the data is gone; the store still holds everything the export needs
    store = Store(storage)
    study = store.get_study("digits")
    assert study is not None
    paths = export_champion(store, study, tmp_path / "out")
    source = (tmp_path / "out" / "model.py").read_text()
    assert "Normalize([" in source and len(paths) == 3
    with pytest.raises(EvoforgeError, match="is a file, not a folder"):
        export_champion(store, study, paths[0])


def test_the_card_carries_the_evidence_that_promoted_the_design(tmp_path: Path, storage: str) -> None:
    run_study(goal_from_dict(digits_goal(trials=1)), storage, workers=0)
    store = Store(storage)
    study = store.get_study("digits")
    assert study is not None
    export_champion(store, study, tmp_path / "out")
    card = json.loads((tmp_path / "out" / "card.json").read_text())
    champion = store.generations(study.id)[-1]
    assert card["held_out"]["design_mean"] == {"val_accuracy": champion.held_out}
    assert len(card["evidence"]["seeds"]) == 3 and card["evidence"]["founding"]
    assert store.events(study.id, "exported")[-1].payload["generation"] == champion.number
