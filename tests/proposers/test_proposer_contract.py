"""The proposer contract, for every built-in proposer and every example plug-in: proposals are valid designs of the
space with earlier trials as parents; a proposer never trains; ``ask`` is deterministic given the seed and what it
was told; and replaying ``tell`` over a study's history rebuilds it, so a resumed study proposes as one that never
stopped."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.objective import Trial
from evoforge.objective._space import ParamSpace
from evoforge.proposers import PROPOSER_PARTS, Proposal, Proposer
from evoforge.spaces import CodeSpace, NB201Space, ProgramSpace, Space
from tests.llm.server import ScriptedServer, reply
from tests.llm.test_edits import block
from tests.spaces.test_code_space import PROGRAM

ROOT = Path(__file__).resolve().parents[2]
STEPS = 14


@dataclass(frozen=True)
class Case:
    """A proposer by the name a goal gives it, the space it searches, its settings, and how a trial of a design
    comes out (its objective value and what the trial recorded)."""

    name: str
    space: Callable[[], Space]
    options: dict[str, Any]
    outcome: Callable[[Design], tuple[float | None, dict[str, Any]]]


def _value(design: Design) -> tuple[float | None, dict[str, Any]]:
    digest = hashlib.sha256(design.hash.encode()).digest()
    fails = digest[1] < 20  # now and then a trial fails: told with no values
    return (None if fails else digest[0] / 255.0), {}


def _objective(trial: Trial) -> float:
    kind = trial.suggest_categorical("kind", ["a", "b"])
    x = trial.suggest_float("x", -1.0, 1.0)
    return -(x**2) + (trial.suggest_float("y", 0.0, 1.0) if kind == "a" else trial.suggest_int("n", 1, 4) / 4)


def _objective_run(design: Design) -> tuple[float | None, dict[str, Any]]:
    trial = Trial(design, number=0, seed=0)
    value = _objective(trial)
    return value, trial.record()


def _code_space() -> Space:
    return CodeSpace(PROGRAM, "prog.py")


def _regression_space() -> Space:
    from regression_task import RegressionSpace  # type: ignore[import-not-found]

    return RegressionSpace()  # type: ignore[no-any-return]


CASES = [
    Case("random", NB201Space, {}, _value),
    Case("evolution", NB201Space, {"population": 4}, _value),
    Case("evolution", ProgramSpace, {"population": 4, "options": {"crossover": 0.5}}, _value),
    Case("guided", NB201Space, {"options": {"initial": 3, "candidates": 20, "exhaustive": 0}}, _value),
    Case("guided", ParamSpace, {"options": {"initial": 3, "candidates": 20}}, _objective_run),
    Case("llm", _code_space, {}, _value),
    Case(
        "tests.study.toy:ScriptedProposer",
        NB201Space,
        {"options": {"cells": [["none"] * 6, ["skip_connect"] * 6]}},
        _value,
    ),
    Case("hill_climb:HillClimb", _regression_space, {"options": {"patience": 3}}, _value),
]


@pytest.fixture
def scale_server() -> Iterator[ScriptedServer]:
    """An endpoint whose reply is a function of the prompt: each proposal raises ``scale`` past every value the
    prompt shows, so a proposer told the same history asks the same and gets the same."""

    def answer(messages: list[dict[str, str]]) -> str:
        prompt = next(m["content"] for m in messages if m["role"] == "user")
        current = re.search(r"    scale = (\d+)", prompt.split("```")[1])  # the current program, shown first
        seen = [int(n) for n in re.findall(r"scale = (\d+)", prompt)]
        assert current is not None
        return "Raise the scale.\n" + block(f"    scale = {current.group(1)}", f"    scale = {max(seen) + 1}")

    server = ScriptedServer().start()
    server.default = reply(answer)
    yield server
    server.stop()


def _make(case: Case, space: Space, server: ScriptedServer | None) -> Proposer:
    extra: dict[str, Any] = {}
    if case.name == "llm":
        assert server is not None
        extra = {"base_url": server.url, "model": "scripted"}
        case_options = {"options": {"backoff_s": 0.001, "timeout_s": 5.0}}
    else:
        case_options = case.options
    search = Search.model_validate({"proposer": case.name, "seed": 11, **case_options, **extra})
    return PROPOSER_PARTS.load(case.name).from_search(search, space)


def _study(case: Case, server: ScriptedServer | None) -> tuple[list[tuple[Proposal, Any]], Proposer, Space]:
    """A simulated study: each proposal is finished at once, in the order asked (a failed one is told None)."""
    space = case.space()
    proposer = _make(case, space, server)
    history = []
    for number in range(STEPS):
        proposal = proposer.ask(number)
        value, info = case.outcome(proposal.design)
        space.observe(proposal.design, info)
        proposer.tell(number, proposal.design, None if value is None else (value,), proposal)
        history.append((proposal, (value, info)))
    return history, proposer, space


def _ids(case: Case) -> str:
    space = getattr(case.space, "name", None) or getattr(case.space, "__name__", "space")
    return f"{case.name}-{space}".replace("<lambda>", "space")


@pytest.fixture(autouse=True)
def _plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "examples" / "plugins"))


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_proposals_are_valid_designs_with_earlier_trials_as_parents(case: Case, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("scale_server") if case.name == "llm" else None
    history, _, space = _study(case, server)
    for number, (proposal, _) in enumerate(history):
        space.validate(proposal.design)
        assert all(0 <= p < number for p in proposal.parents), f"trial {number} names a parent that is not earlier"
        json.dumps(proposal.info)  # what it notes about a proposal is stored as JSON
    assert len({p.design for p, _ in history}) > STEPS // 2  # it explores: not the same design over and over


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_replaying_the_history_rebuilds_the_proposer(case: Case, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("scale_server") if case.name == "llm" else None
    history, live, _ = _study(case, server)
    space = case.space()
    rebuilt = _make(case, space, server)
    for number, (proposal, (value, info)) in enumerate(history):  # what a resumed study tells it, in order
        space.observe(proposal.design, info)
        rebuilt.tell(number, proposal.design, None if value is None else (value,), proposal)
    a, b = live.ask(STEPS), rebuilt.ask(STEPS)
    assert (a.design, a.parents, a.operator) == (b.design, b.parents, b.operator)
    assert json.dumps(live.insights(), sort_keys=True, default=str) == json.dumps(
        rebuilt.insights(), sort_keys=True, default=str
    )


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_two_proposers_told_the_same_ask_the_same(case: Case, request: pytest.FixtureRequest) -> None:
    server = request.getfixturevalue("scale_server") if case.name == "llm" else None
    first, _, _ = _study(case, server)
    second, _, _ = _study(case, server)
    assert [p.design for p, _ in first] == [p.design for p, _ in second]
