from __future__ import annotations

import random

import numpy as np
import pytest

from evoforge.design import Design
from evoforge.oversight import (
    apply,
    attribute,
    changes,
    pack_samples,
    paired_bootstrap,
    paired_test,
    plan_attribution,
    revert,
    unpack_samples,
)
from evoforge.spaces import NB201Space
from evoforge.storage import ChangeEffect

BASE = ["avg_pool_3x3"] * 6


def _cell(**ops: str) -> Design:
    edges = list(BASE)
    for key, op in ops.items():
        edges[int(key[1:])] = op
    return Design.make("nb201", {"edges": edges})


def test_a_consistent_gain_is_significant_and_its_interval_excludes_zero() -> None:
    result = paired_test([0.91, 0.93, 0.92], [0.80, 0.81, 0.80], level=0.05)
    assert result["significant"] and result["ci"][0] > 0 and result["n"] == 3
    assert result["mean_diff"] == pytest.approx(0.11666, abs=1e-4)


def test_a_gain_within_seed_noise_is_not_significant() -> None:
    result = paired_test([0.905, 0.880, 0.915], [0.900, 0.890, 0.900], level=0.05)
    assert result["mean_diff"] > 0 and not result["significant"] and result["ci"][0] < 0 < result["ci"][1]


def test_pairing_removes_noise_shared_by_a_seed() -> None:
    rng = random.Random(0)
    shared = [rng.gauss(0, 0.05) for _ in range(3)]  # seed luck far larger than the gain
    challenger = [0.90 + s + 0.01 for s in shared]
    champion = [0.90 + s for s in shared]
    assert paired_test(challenger, champion, 0.05)["significant"]


def test_a_deterministic_benchmark_gives_a_point_interval() -> None:
    result = paired_test([0.8, 0.8], [0.7, 0.7], 0.05)
    assert result["ci"] == pytest.approx([0.1, 0.1]) and result["significant"]
    assert not paired_test([0.7, 0.7], [0.7, 0.7], 0.05)["significant"]


def test_unequal_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="equally long"):
        paired_test([0.1, 0.2], [0.1], 0.05)


def test_changes_are_per_edge_and_apply_and_revert_undo_each_other() -> None:
    champion, challenger = _cell(), _cell(e0="nor_conv_3x3", e3="skip_connect")
    found = changes(champion, challenger)
    assert [c.name for c in found] == ["edges[0]", "edges[3]"]
    assert found[0].text == "edges[0]: avg_pool_3x3 -> nor_conv_3x3"
    assert apply(champion, found) == challenger and apply(champion, []) == champion
    assert revert(challenger, found[1]) == _cell(e0="nor_conv_3x3")


def test_changes_of_nested_genes_name_their_path_and_a_resized_list_is_one_change() -> None:
    a = Design.make("macro", {"arch": {"blocks": [1], "norm": "none"}, "recipe": {"lr": 0.1}})
    b = Design.make("macro", {"arch": {"blocks": [1, 2], "norm": "batch"}, "recipe": {"lr": 0.1, "wd": 0.0}})
    assert [c.name for c in changes(a, b)] == ["arch.blocks", "arch.norm", "recipe.wd"]
    assert apply(a, changes(a, b)) == b and revert(b, changes(a, b)[2]) == Design.make(
        "macro", {"arch": {"blocks": [1, 2], "norm": "batch"}, "recipe": {"lr": 0.1}}
    )


def _score(effects: dict[str, float], noise: float = 0.002):  # type: ignore[no-untyped-def]
    def score(design: Design, seed: int) -> float:
        edges = design.view["edges"]
        gain = sum(v for k, v in effects.items() if edges[int(k[1])] == k.split(":")[1])
        return 0.5 + gain + random.Random(f"{seed}:{design.hash}").gauss(0, noise)

    return score


def test_leave_one_out_finds_the_change_that_helps_and_flags_the_one_that_does_nothing() -> None:
    champion, challenger = _cell(), _cell(e0="nor_conv_3x3", e3="skip_connect")
    plan = plan_attribution(champion, challenger, NB201Space(), max_changes=6, permutations=4, seed=0)
    assert plan.method == "leave-one-out" and plan.designs() == [_cell(e3="skip_connect"), _cell(e0="nor_conv_3x3")]
    result = attribute(plan, _score({"e0:nor_conv_3x3": 0.2}), [1, 2, 3], 0.05)
    helps, nothing = result.changes
    assert (
        helps.effect == "helps"
        and not helps.flagged
        and helps.contribution is not None
        and helps.contribution.mean == pytest.approx(0.2, abs=0.01)
    )
    assert nothing.effect == "no measurable effect" and nothing.flagged
    assert result.simpler == {"edges": _cell(e0="nor_conv_3x3").genes["edges"]}
    assert result.simpler_drops == ("edges[3]",)


def test_many_changes_are_attributed_by_sampled_shapley() -> None:
    champion = _cell()
    challenger = _cell(e0="nor_conv_3x3", e1="nor_conv_1x1", e2="skip_connect", e3="none", e4="nor_conv_3x3")
    plan = plan_attribution(champion, challenger, NB201Space(), max_changes=3, permutations=6, seed=1)
    assert plan.method == "shapley" and len(plan.orders) == 6
    result = attribute(plan, _score({"e0:nor_conv_3x3": 0.2, "e1:nor_conv_1x1": 0.05}), [1, 2, 3], 0.05)
    by_name = {r.name: r for r in result.changes}
    assert _mean(by_name["edges[0]"]) == pytest.approx(0.2, abs=0.01)
    assert _mean(by_name["edges[1]"]) == pytest.approx(0.05, abs=0.01)
    assert [n for n, r in by_name.items() if r.flagged] == ["edges[2]", "edges[3]", "edges[4]"]


def test_when_no_change_helps_alone_no_simpler_variant_is_proposed() -> None:
    champion, challenger = _cell(), _cell(e0="nor_conv_3x3", e3="skip_connect")
    plan = plan_attribution(champion, challenger, NB201Space(), 6, 4, 0)
    result = attribute(plan, _score({}), [1, 2, 3], 0.05)
    assert all(r.flagged for r in result.changes) and result.simpler is None


def _outcomes(n: int, right: int, seed: int = 0) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[np.random.default_rng(seed).permutation(n)[:right]] = True
    return out


def test_a_gain_of_two_test_inputs_is_not_significant_however_steady_across_seeds() -> None:
    champion = [_outcomes(360, 352) for _ in range(3)]
    challenger = []
    for run in champion:
        better = run.copy()
        better[np.flatnonzero(~run)[:2]] = True  # the same two more inputs right, on every seed
        challenger.append(better)
    t = paired_test([c.mean() for c in challenger], [c.mean() for c in champion], 0.05)
    boot = paired_bootstrap(challenger, champion, 0.05)
    assert t["significant"]  # seeds alone say "certain": every seed gained exactly 2/360
    assert not boot["significant"] and boot["ci"][0] <= 0 < boot["ci"][1] and boot["test_inputs"] == 360


def test_a_broad_gain_is_significant_under_the_bootstrap() -> None:
    champion = [_outcomes(2000, 1800, seed) for seed in range(3)]
    challenger = [run | _outcomes(2000, 200, 10 + i) for i, run in enumerate(champion)]
    boot = paired_bootstrap(challenger, champion, 0.05)
    assert boot["significant"] and boot["ci"][0] > 0 and boot["p_value"] < 0.05
    assert boot == paired_bootstrap(challenger, champion, 0.05)  # deterministic


def test_per_input_values_pack_into_json_and_back() -> None:
    run = _outcomes(1001, 500)
    packed = pack_samples(run.astype(float).tolist())
    assert packed["n"] == 1001 and isinstance(packed["bits"], str)  # zeros and ones: one bit each
    assert (unpack_samples(packed) == run).all()
    losses = np.random.default_rng(0).gamma(2.0, 0.3, 999)
    packed = pack_samples(losses.tolist())
    assert packed["n"] == 999 and "f32" in packed
    assert np.allclose(unpack_samples(packed), losses, rtol=1e-6)


def test_per_input_values_that_do_not_read_back_are_refused() -> None:
    packed = pack_samples([0.5, 1.5, 2.5])
    with pytest.raises(ValueError, match="hold 3 values, not 4"):
        unpack_samples({**packed, "n": 4})


def _mean(row: ChangeEffect) -> float:
    assert row.contribution is not None
    return row.contribution.mean
