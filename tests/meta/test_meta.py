from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evoforge import GoalError
from evoforge.cli import main
from evoforge.design import Design
from evoforge.goal import goal_from_dict
from evoforge.meta import CHOICES, ProfileSpace, settings_of
from evoforge.study._setup import prepare
from tests.conftest import NB201_PATH, nb201_goal


def test_a_tiny_meta_run_writes_a_profile_that_a_goal_then_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("EVOFORGE_PROFILES", str(tmp_path / "profiles"))
    argv = ["meta", "--save", "tiny", "--trials", "3", "--runs", "1", "--queries", "15", "--problems", "nb201-val12"]
    argv += ["--workers", "0", "--quiet", "--storage", f"sqlite:///{tmp_path / 'meta.db'}", "--data", NB201_PATH]
    assert main(argv) == 0
    assert "profile 'tiny' saved to" in capsys.readouterr().out
    saved = json.loads((tmp_path / "profiles" / "tiny.json").read_text())
    assert saved["proposer"] == "guided" and saved["found_by"] == "evoforge " + " ".join(argv)
    assert saved["tuning"]["problems"] == ["nb201-val12"] and saved["tuning"]["trials"] == 3
    tuning = saved["tuning"]
    assert tuning["held_out_meta_score"] is not None  # the pick is re-scored on inner seeds no choice used
    assert len(tuning["finalists"]) == 3 and tuning["trial"] in [f["trial"] for f in tuning["finalists"]]
    best = max(tuning["finalists"], key=lambda f: f["pooled"])
    assert best["trial"] == tuning["trial"]  # the pick is the best pooled score, not the best single noisy one
    proposer = prepare(goal_from_dict(nb201_goal("x", 5, search={"profile": "tiny"}))).proposer()
    settings = saved["settings"]
    assert proposer.candidates == settings["candidates"]  # type: ignore[attr-defined]
    assert proposer.population.maxlen == settings["population"]  # type: ignore[attr-defined]
    assert proposer.operators.priors == settings["operator_priors"]  # type: ignore[attr-defined]


def test_meta_refuses_bad_input_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["meta", "--trials", "1", "--storage", f"sqlite:///{tmp_path / 'm.db'}", "--data", NB201_PATH]
    assert main([*base, "--save", "a/b"]) == 2
    assert "--save: 'a/b' is not a profile name" in capsys.readouterr().err
    assert main([*base, "--save", "x", "--problems", "nb201-val200,cifar100"]) == 2
    assert "--problems: unknown problem 'cifar100'" in capsys.readouterr().err
    assert not (tmp_path / "m.db").exists()


def test_the_profile_space_samples_valid_settings_and_ignores_what_cannot_matter() -> None:
    space = ProfileSpace()
    rng = random.Random(0)
    for _ in range(50):
        d = space.sample(rng)
        space.validate(d)
        child = space.mutate(d, rng).design
        space.validate(child)
        assert len(space.features(child)) == len(space.features(d))
    genes = {k: v[0] for k, v in CHOICES.items()}
    a = Design.make("search_profile", {**genes, "acquisition": "ei", "kappa": 0.5})
    b = Design.make("search_profile", {**genes, "acquisition": "ei", "kappa": 3.0})
    c = Design.make("search_profile", {**genes, "acquisition": "ucb", "kappa": 3.0})
    assert space.canonical(a) == space.canonical(b) != space.canonical(c)  # kappa only matters to UCB
    nested = settings_of(a.genes)
    assert nested["route_priors"] == {"predictor": 0.3, "evolution": 0.1} and "route_priors.predictor" not in nested
    with pytest.raises(ValueError, match=r"candidates: 7 is not one of \[25, 50, 100, 200\]"):
        space.validate(Design.make("search_profile", {**genes, "candidates": 7}))


def test_the_search_benchmark_task_checks_its_problems() -> None:
    with pytest.raises(GoalError, match="unknown problem 'x'"):
        prepare(
            goal_from_dict(
                {
                    "study": "m",
                    "task": {"name": "search_benchmark", "path": NB201_PATH, "problems": ["x"]},
                    "objectives": {"meta_score": "max"},
                    "budget": {"trials": 1},
                }
            )
        )
