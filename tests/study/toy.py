"""A constructed task for oversight tests: NAS-Bench-201 cells whose score is a known sum of per-edge effects plus
seed noise, so a test knows which change helps, which does nothing, and how noisy a single run is."""

from __future__ import annotations

import json
import random
from typing import Any

from pydantic import Field

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.proposers import Proposal, Proposer
from evoforge.spaces import NB201Space, Space
from evoforge.tasks import EvalSettings, HeldOut, Task, TaskOptions, TrialResult

BASE = ["avg_pool_3x3"] * 6
TOY, SCRIPTED = "tests.study.toy:ToyTask", "tests.study.toy:ScriptedProposer"  # parts from outside the package


class ToyOptions(TaskOptions):
    effects: dict[str, float] = Field(default_factory=dict, description='"edge:op" -> added to the score')
    seed_noise: float = 0.01  # shared by every design trained on the same seed (a lucky seed is lucky for all)
    design_noise: float = 0.002  # each design's own run-to-run noise
    broken: str | None = None  # "edge:op": designs with it cannot be measured on the test split (evidence fails)


class ToyTask(Task):
    name = "toy"
    Options = ToyOptions
    metrics = frozenset({"val_accuracy", "params"})

    def __init__(self, options: ToyOptions) -> None:
        self.options = options

    def space(self, options: dict[str, Any]) -> NB201Space:
        return NB201Space()

    def fidelities(self, design: Design) -> list[int]:
        return [1]

    def _value(self, design: Design, seed: int, split: str) -> float:
        edges = design.view["edges"]
        mean = 0.5 + sum(v for k, v in self.options.effects.items() if edges[int(k.split(":")[0])] == k.split(":")[1])
        shared = random.Random(f"{split}:{seed}").gauss(0, self.options.seed_noise)
        own = random.Random(f"{split}:{seed}:{design.hash}").gauss(0, self.options.design_noise)
        return mean + shared + own

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        params = float(sum(e != "none" for e in design.view["edges"]))
        metrics = {"val_accuracy": self._value(design, seed, "val"), "params": params}
        return TrialResult(metrics, artifact=json.dumps({"seed": seed}).encode(), info={"epoch": 1})

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        if self.options.broken:
            edge, op = self.options.broken.split(":")
            if design.view["edges"][int(edge)] == op:
                raise RuntimeError("this design cannot be measured on the test split")
        seed = json.loads(artifact or b'{"seed": 0}')["seed"]
        return HeldOut({"val_accuracy": self._value(design, seed, "test")})


def cell(**changes: str) -> list[str]:
    """The base cell with edges changed, e.g. ``cell(e0="nor_conv_3x3")``."""
    edges = list(BASE)
    for key, op in changes.items():
        edges[int(key[1:])] = op
    return edges


class ScriptedProposer(Proposer):
    """Proposes the cells listed in ``search.options.cells`` in order (each a child of the one before), then
    random cells: a test decides exactly which challengers the gate sees."""

    name = "scripted"

    def __init__(self, space: Space, seed: int, start_from: Design | None = None, *, cells: list[list[str]]) -> None:
        super().__init__(space, seed, start_from)
        self.cells = cells

    @classmethod
    def from_search(cls, search: Search, space: Space, start_from: Design | None = None) -> Proposer:
        return cls(space, search.seed, start_from, **search.options)

    def ask(self, number: int) -> Proposal:
        if number < len(self.cells):
            parents = (number - 1,) if number else ()
            return Proposal(Design.make("nb201", {"edges": self.cells[number]}), parents, "scripted", "from the script")
        return Proposal(self.space.sample(self.rng(number)), (), None, "random")


def toy_goal(cells: list[list[str]], trials: int, effects: dict[str, float], **extra: Any) -> dict[str, Any]:
    goal: dict[str, Any] = {
        "study": "toy",
        "task": {"name": TOY, "effects": effects},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": trials},
        "search": {"proposer": SCRIPTED, "seed": 0, "options": {"cells": cells}},
    }
    goal.update(extra)
    return goal


class LossToyOptions(TaskOptions):
    effects: dict[str, float] = Field(default_factory=dict, description='"edge:op" -> taken off the loss, everywhere')
    val_only: dict[str, float] = Field(default_factory=dict, description='"edge:op" -> taken off the validation loss')
    seed_noise: float = 0.01
    design_noise: float = 0.002
    inputs: int = 300  # held-out inputs, each with its own difficulty


class LossToyTask(Task):
    """Judged on a loss (lower is better): a design's true loss is 1 minus its per-edge effects; a run adds seed
    noise; on the held-out split each input has a difficulty of its own, so a design is measured input by input.
    ``val_only`` effects show on the validation split and nowhere else (a design that fits the validation data)."""

    name = "loss_toy"
    Options = LossToyOptions
    metrics = frozenset({"val_loss"})
    curve_metrics = frozenset()

    def __init__(self, options: LossToyOptions) -> None:
        self.options = options

    def space(self, options: dict[str, Any]) -> NB201Space:
        return NB201Space()

    def fidelities(self, design: Design) -> list[int]:
        return []

    def _gain(self, design: Design, effects: dict[str, float]) -> float:
        edges = design.view["edges"]
        return sum(v for k, v in effects.items() if edges[int(k.split(":")[0])] == k.split(":")[1])

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        o = self.options
        loss = 1.0 - self._gain(design, o.effects) - self._gain(design, o.val_only)
        loss += random.Random(f"val:{seed}").gauss(0, o.seed_noise)
        loss += random.Random(f"val:{seed}:{design.hash}").gauss(0, o.design_noise)
        return TrialResult({"val_loss": loss}, artifact=json.dumps({"seed": seed}).encode())

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        o = self.options
        seed = json.loads(artifact or b'{"seed": 0}')["seed"]
        base = 1.0 - self._gain(design, o.effects) + random.Random(f"test:{seed}").gauss(0, o.seed_noise)
        own = random.Random(f"test:{seed}:{design.hash}")
        losses = [base + 0.3 * random.Random(f"input:{i}").random() + own.gauss(0, 0.05) for i in range(o.inputs)]
        return HeldOut({"val_loss": sum(losses) / len(losses)}, {"val_loss": losses})


LOSS_TOY = "tests.study.toy:LossToyTask"
