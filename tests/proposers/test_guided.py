from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

import numpy as np
import pytest

import evoforge.proposers._guided as guided_module
from evoforge.design import Design
from evoforge.proposers import Credit, GuidedProposer, Proposal
from evoforge.spaces import NB201_OPS, NB201Space


def test_credit_follows_wins_and_keeps_a_floor() -> None:
    credit = Credit(["good", "bad"], floor=0.2)
    assert credit.weights() == {"good": 0.5, "bad": 0.5}  # equal priors, no evidence
    for _ in range(200):
        credit.update("good", True, 0.01)
        credit.update("bad", False)
    w = credit.weights()
    assert w["good"] > 0.85 and w["bad"] >= 0.1  # floor 0.2 spread over two arms: never below 0.1
    assert sum(w.values()) == pytest.approx(1.0)
    snap = credit.snapshot()
    assert snap["good"]["uses"] == 200 and snap["good"]["wins"] == 200 and snap["good"]["gain"] == pytest.approx(2.0)
    picks = Counter(credit.choose(random.Random(i)) for i in range(4000))
    assert picks["bad"] / 4000 == pytest.approx(w["bad"], abs=0.02)  # choices follow the weights, floor included
    credit.update("unknown-operator", True)  # an arm this space does not have is ignored
    assert set(credit.snapshot()) == {"good", "bad"}


def test_credit_is_smoothed_by_priors_and_warmed_by_another_study() -> None:
    credit = Credit(["a", "b"], floor=0.0, priors={"a": 0.6, "b": 0.2}, strength=4)
    assert credit.weights()["a"] == pytest.approx(0.75)  # 0.6 / (0.6 + 0.2)
    credit.update("b", True)
    credit.update("b", True)
    assert credit.score("b") == pytest.approx((0.2 * 4 + 2) / (4 + 2))
    cold = Credit(["a", "b"], floor=0.0)
    cold.warm({"a": {"uses": 10, "wins": 8}, "b": {"uses": 10, "wins": 0}}, weight=0.5)
    assert cold.weights()["a"] > 0.75
    with pytest.raises(ValueError, match="floor"):
        Credit(["a"], floor=1.5)


def test_telling_credits_the_operator_and_route_that_made_a_child() -> None:
    space = NB201Space()
    p = GuidedProposer(space, 0, initial=2)
    parent = Design.make("nb201", {"edges": ["nor_conv_3x3"] * 6})
    p.tell(0, parent, (0.80,))
    better = space.mutate(parent, random.Random(0), "swap_edge_op").design
    p.tell(1, better, (0.90,), Proposal(better, (0,), "swap_edge_op", "x", {"route": "predictor"}))
    child = Design.make("nb201", {"edges": ["nor_conv_1x1"] + ["nor_conv_3x3"] * 5})
    p.tell(2, child, None, Proposal(child, (0,), "swap_edge_op+exchange_edges", "x", {"route": "evolution"}))
    ops, routes = p.operators.snapshot(), p.routes.snapshot()
    assert ops["swap_edge_op"]["uses"] == 2 and ops["swap_edge_op"]["wins"] == 1
    assert ops["swap_edge_op"]["gain"] == pytest.approx(0.10)
    assert ops["exchange_edges"]["uses"] == 1 and ops["exchange_edges"]["wins"] == 0  # a failed child is a loss
    assert routes["predictor"]["wins"] == 1 and routes["evolution"]["uses"] == 1


class Scripted:
    """A stand-in predictor: the mean is the number of 3x3 convolutions on live edges, the spread is fixed."""

    fit_info = None

    def predict(self, x: Any, noisy: bool = False) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(x)
        conv3 = rows[:, 3:30:5].sum(1)  # one-hot block per edge: index 3 is nor_conv_3x3
        return conv3.astype(float), np.full(len(rows), 0.5)


def test_the_proposal_is_the_candidate_the_acquisition_ranks_first(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    real = guided_module.acquire

    def spy(name, mean, std, best, rng, **kw):  # type: ignore[no-untyped-def]
        scores = real(name, mean, std, best, rng, **kw)
        seen.append((mean, std, scores))
        return scores

    monkeypatch.setattr(guided_module, "acquire", spy)
    space = NB201Space()
    p = GuidedProposer(space, 0, initial=4, acquisition="ucb", kappa=1.0, floor=0.0, route_priors={"evolution": 0.0})
    monkeypatch.setattr(p, "_fitted", lambda: Scripted())
    rng = random.Random(0)
    for n in range(6):
        d = space.sample(rng)
        p.tell(n, d, (rng.random(),))
    proposal = p.ask(6)
    mean, _, scores = seen[-1]
    assert proposal.info["route"] == "predictor" and proposal.info["acquisition"] == "ucb"
    assert proposal.info["score"] == pytest.approx(float(scores.max()))
    chosen = Scripted().predict([space.features(proposal.design)])[0][0]
    assert chosen == mean.max()  # UCB with a constant spread picks the highest scripted mean
    assert proposal.info["candidates"] == len(mean) > 20
    assert "predicted" in proposal.rationale and "best UCB of" in proposal.rationale


def test_guided_never_proposes_a_function_twice_and_replays_exactly() -> None:
    space = NB201Space()
    rng = random.Random(1)
    a = GuidedProposer(space, 5, initial=5)
    history = []
    for n in range(40):
        prop = a.ask(n)
        value = (rng.random(),)
        a.tell(n, prop.design, value, prop)
        history.append((prop, value))
    keys = [space.canonical(p.design) for p, _ in history]
    assert len(set(keys)) == len(keys)
    # A fresh proposer told the same history (a resumed study) asks exactly what the first asks next.
    b = GuidedProposer(space, 5, initial=5)
    for n, (prop, value) in enumerate(history):
        b.tell(n, prop.design, value, prop)
    assert a.ask(40) == b.ask(40)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="acquisition: unknown 'pi'"):
        GuidedProposer(NB201Space(), 0, acquisition="pi")


def test_isomorphic_cells_dead_branches_and_skip_chains_share_a_function() -> None:
    space = NB201Space()

    def key(edges: list[str]) -> str:
        return space.canonical(Design.make("nb201", {"edges": edges}))

    c3, c1, skip, none, pool = "nor_conv_3x3", "nor_conv_1x1", "skip_connect", "none", "avg_pool_3x3"
    # Edge order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2. Swapping nodes 1 and 2 (no edge between them) is isomorphic.
    assert key([c3, c1, none, skip, c1, c3]) == key([c1, c3, none, skip, c3, c1])
    # A node that never reaches the output is dead, whatever it computes.
    assert key([c3, pool, none, c1, none, none]) == key([c1, c3, c3, c1, none, none])
    # A skip chain is the identity: conv(skip(x)) == conv(x).
    assert key([skip, none, none, none, c3, none]) == key([none, none, none, c3, none, none])
    # No path from input to output: every such cell computes zero.
    assert key([none] * 6) == key([c3, c3, none, none, none, none]) == "0"
    # Genuinely different cells differ.
    assert key([c3, none, none, skip, c3, none]) != key([c1, none, none, skip, c3, none])
    # Over the whole space: every pair of cells related by swapping nodes 1 and 2 gets one key.
    for e in itertools.product(NB201_OPS, repeat=6):
        if e[2] == none:
            assert key(list(e)) == key([e[1], e[0], none, e[3], e[5], e[4]])


def test_a_small_space_is_searched_whole_each_function_once() -> None:
    space = NB201Space()
    listed = space.enumerate(20_000)
    assert listed is not None and space.enumerate(1000) is None
    keys = {space.canonical(d) for d in listed}
    assert len(keys) == len(listed) == 5485  # NAS-Bench-201's 15,625 cells compute 5,485 distinct functions
    every = {space.canonical(Design.make("nb201", {"edges": list(e)})) for e in itertools.product(NB201_OPS, repeat=6)}
    assert keys == every


def test_with_the_whole_space_listed_the_acquisition_finds_the_global_best(monkeypatch: pytest.MonkeyPatch) -> None:
    space = NB201Space()
    p = GuidedProposer(space, 0, initial=3, candidates=5, parents=1, acquisition="ucb", kappa=0.0, floor=0.0)
    p.routes.priors["evolution"] = 0.0
    monkeypatch.setattr(p, "_fitted", lambda: Scripted())
    for n, edges in enumerate([["none"] * 6, ["skip_connect"] * 6, ["avg_pool_3x3"] * 6]):
        d = Design.make("nb201", {"edges": edges})
        p.tell(n, d, (0.1 * n,))
    proposal = p.ask(3)
    # Five local mutations of poor cells cannot reach six 3x3 convolutions; the listed space can.
    assert proposal.design.genes["edges"] == ["nor_conv_3x3"] * 6
    assert "every untried function of the space" in proposal.rationale
    assert proposal.info["candidates"] == 5485 - 3


def test_one_shared_convolution_is_not_two_separate_ones() -> None:
    space = NB201Space()
    shared = space.from_arch_string("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|")
    copies = space.from_arch_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|")
    assert space.canonical(shared) != space.canonical(copies)
    # Sharing a computation without weights (pooling, the input itself) changes nothing.
    a = space.from_arch_string("|avg_pool_3x3~0|+|none~0|skip_connect~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    b = space.from_arch_string("|avg_pool_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|")
    assert space.canonical(a) == space.canonical(b)
