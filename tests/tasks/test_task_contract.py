"""The task contract, for every built-in task and every example plug-in: built from its goal section (and built
again from the section its object gives, as a worker process does); a space whose samples validate; an evaluation
that is deterministic for a seed and whose values can cross to another process; a held-out measurement named as
the metrics it stands for, with per-input values that average to them."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evoforge import _codec
from evoforge.design import Design
from evoforge.tasks import EvalSettings, RunContext, Task, make_task, task_config
from tests.conftest import MNIST_PATH, NB201_PATH, SMALL_DIGITS_GENES
from tests.tasks.test_images import write_digits

ROOT = Path(__file__).resolve().parents[2]
# Measured, not computed: these may differ between two runs of the same seed.
TIMINGS = {"train_time_s", "latency_ms", "energy_j", "peak_memory_mb", "time_to_accuracy_s", "search_ms_per_query"}
SETTINGS = EvalSettings(device="cpu", threads=1, latency_repeats=2)


@dataclass(frozen=True)
class Case:
    id: str
    config: Callable[[Path], dict[str, Any]]  # the goal's task section, given a folder for data it writes
    design: Callable[[Task], Design] | None = None  # what to evaluate (default: a sample of the space)


def _arrays(folder: Path) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4))
    rows = ["a,b,c,d,kind"] + [",".join(f"{v:.4f}" for v in r) + f",{'yes' if r[0] > 0 else 'no'}" for r in x]
    (folder / "rows.csv").write_text("\n".join(rows) + "\n")
    return {"name": "arrays", "path": str(folder / "rows.csv"), "label_column": "kind"}


def _images(folder: Path) -> dict[str, Any]:
    write_digits(folder / "imgs", per_class=12)
    return {"name": "images", "path": str(folder / "imgs")}


def _small_macro(task: Task) -> Design:
    genes = {**SMALL_DIGITS_GENES, "recipe": {**SMALL_DIGITS_GENES["recipe"], "epochs": 2}}
    return Design.make("macro", genes)


def _python(folder: Path) -> dict[str, Any]:
    return {
        "name": "python",
        "objective": f"{ROOT / 'tests' / 'objective' / 'user_objective.py'}:objective",
        "metrics": ["val_loss"],
    }


CASES = [
    Case("digits", lambda f: {"name": "digits"}, _small_macro),
    Case("mnist", lambda f: {"name": "mnist", "path": MNIST_PATH, "limit": 300}, _small_macro),
    Case("arrays", _arrays),
    Case("images", _images),
    Case("nasbench201", lambda f: {"name": "nasbench201", "path": NB201_PATH}),
    Case(
        "optimizer_discovery",
        lambda f: {"name": "optimizer_discovery", "steps": 5, "problems": ["regression"], "held_out": ["friedman"]},
    ),
    Case(
        "user_code",
        lambda f: {
            "name": "user_code",
            "file": str(ROOT / "examples" / "user_code" / "train.py"),
            "eval": "python train.py",
        },
    ),
    Case("python", _python),
    Case(
        "search_benchmark",
        lambda f: {
            "name": "search_benchmark",
            "path": NB201_PATH,
            "problems": ["nb201-val12"],
            "runs": 1,
            "queries": 10,
        },
    ),
    Case("toy (tests)", lambda f: {"name": "tests.study.toy:ToyTask", "effects": {"0:nor_conv_3x3": 0.1}}),
    Case("loss toy (tests)", lambda f: {"name": "tests.study.toy:LossToyTask"}),
    Case("regression (examples/plugins)", lambda f: {"name": "regression_task:RegressionTask"}),
]


@pytest.fixture(autouse=True)
def _plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "plugins"))


def _built(case: Case, tmp_path: Path) -> tuple[Task, Design]:
    task = make_task(case.config(tmp_path))
    task.load()
    space = task.space({})
    design = case.design(task) if case.design else space.sample(random.Random(3))
    space.validate(design)
    return task, design


def _evaluate(task: Task, design: Design, seed: int) -> Any:
    if task.reports:
        return task.evaluate(design, seed, SETTINGS, context=RunContext(0))  # type: ignore[call-arg]
    return task.evaluate(design, seed, SETTINGS)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_task_is_built_again_from_the_section_its_object_gives(case: Case, tmp_path: Path) -> None:
    task, _ = _built(case, tmp_path)
    again = make_task(task_config(task))
    assert type(again) is type(task) and task_config(again) == task_config(task)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_an_evaluation_is_deterministic_for_a_seed_and_can_cross_to_another_process(case: Case, tmp_path: Path) -> None:
    task, design = _built(case, tmp_path)
    first, second = _evaluate(task, design, 5), _evaluate(task, design, 5)
    assert first.metrics and set(first.metrics) & set(task.metrics)  # it reports what it says it measures
    assert all(isinstance(v, float) for v in first.metrics.values())
    same = {k: v for k, v in first.metrics.items() if k not in TIMINGS}
    assert same == {k: v for k, v in second.metrics.items() if k not in TIMINGS}
    value = {"metrics": first.metrics, "artifact": first.artifact, "info": first.info, "checkpoint": first.checkpoint}
    assert _codec.unpack(_codec.pack(value))["metrics"] == first.metrics
    fidelities = task.fidelities(design)
    assert fidelities == sorted(fidelities)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_held_out_measurement_is_named_as_the_metrics_it_stands_for(case: Case, tmp_path: Path) -> None:
    task, design = _built(case, tmp_path)
    result, held = task.held_out(design, 5, SETTINGS)
    assert result.metrics
    assert set(held.metrics) <= set(task.metrics), f"held-out values for undeclared metrics: {set(held.metrics)}"
    for name, values in held.samples.items():
        assert name in held.metrics and np.mean(values) == pytest.approx(held.metrics[name], rel=1e-6, abs=1e-9)
    assert held.metrics or held.note  # a task that measured nothing held out says why
