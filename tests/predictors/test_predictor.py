from __future__ import annotations

import random

import numpy as np
import pytest

from evoforge.predictors import GaussianProcess, acquire, expected_improvement, spearman, upper_confidence_bound
from evoforge.spaces import NB201Space
from evoforge.tasks import make_task
from tests.conftest import NB201_PATH


@pytest.fixture(scope="module")
def cells():  # type: ignore[no-untyped-def]
    """900 distinct real NAS-Bench-201 cells (distinct functions), each with one noisy single-seed reading."""
    task = make_task({"name": "nasbench201", "path": NB201_PATH})
    space, rng = NB201Space(), random.Random(7)
    seen, out = set(), []
    while len(out) < 900:
        d = space.sample(rng)
        if space.canonical(d) in seen:
            continue
        seen.add(space.canonical(d))
        row = task.row(d)  # type: ignore[attr-defined]
        out.append((space.features(d), rng.choice(row.val_seeds), row.val_mean))
    return out


def test_the_predictor_ranks_held_out_real_cells_far_better_than_chance(cells) -> None:  # type: ignore[no-untyped-def]
    train, held = cells[:300], cells[300:]
    gp = GaussianProcess().fit([f for f, _, _ in train], [y for _, y, _ in train])
    mean, _ = gp.predict([f for f, _, _ in held])
    rho = spearman(list(mean), [m for _, _, m in held])
    # Chance is 0 (a shuffled predictor: |rho| < 0.1 here); after 300 noisy readings the ranking is close to true.
    shuffled = spearman(list(np.random.default_rng(0).permutation(mean)), [m for _, _, m in held])
    assert rho is not None and shuffled is not None
    assert rho > 0.8 and abs(shuffled) < 0.15
    # Among the better half it still ranks (the hard part: telling good cells apart).
    good = [i for i, (_, _, m) in enumerate(held) if m >= np.median([m for _, _, m in held])]
    rho_good = spearman([mean[i] for i in good], [held[i][2] for i in good])
    assert rho_good is not None and rho_good > 0.4


def test_its_uncertainty_is_calibrated_where_it_matters(cells) -> None:  # type: ignore[no-untyped-def]
    train, held = cells[:300], cells[300:]
    gp = GaussianProcess().fit([f for f, _, _ in train], [y for _, y, _ in train])
    mean, std = gp.predict([f for f, _, _ in held], noisy=True)
    fresh = np.array([y for _, y, _ in held])
    inside = np.abs(fresh - mean) <= 1.96 * std
    upper = fresh >= gp.floor  # below the clipping floor the model predicts the floor, by design
    assert 0.85 <= inside[upper].mean() <= 0.995
    # Far from every training point the model admits it knows less than near them.
    _, near = gp.predict([f for f, _, _ in train[:50]])
    _, far = gp.predict([[0.0] * len(train[0][0])])
    assert far[0] > 2 * near.mean()


def test_fit_rejects_mismatched_data() -> None:
    with pytest.raises(ValueError, match="expected n feature rows and n targets"):
        GaussianProcess().fit([[0.0], [1.0]], [1.0])


def test_acquisitions_on_a_scripted_predictor() -> None:
    mean = np.array([1.0, 1.0, 0.5, 1.2])
    std = np.array([0.1, 0.5, 2.0, 0.0])
    # EI: at equal means the more uncertain candidate is worth more; a sure thing above the best is worth its gain.
    ei = expected_improvement(mean, std, best=1.1)
    assert ei[1] > ei[0] and ei[3] == pytest.approx(0.1)
    assert int(np.argmax(ei)) == 2  # a wide spread around a lower mean has the biggest upside here
    # UCB: kappa trades mean for spread.
    assert int(np.argmax(upper_confidence_bound(mean, std, kappa=0.0))) == 3
    assert int(np.argmax(upper_confidence_bound(mean, std, kappa=2.0))) == 2
    # Thompson: one draw per candidate, reproducible from the rng; a zero-spread candidate draws its mean.
    a = acquire("ts", mean, std, 0.0, random.Random(3), xi=0.0, kappa=0.0)
    b = acquire("ts", mean, std, 0.0, random.Random(3), xi=0.0, kappa=0.0)
    assert list(a) == list(b) and a[3] == 1.2
    with pytest.raises(ValueError, match="unknown 'pi'"):
        acquire("pi", mean, std, 0.0, random.Random(0), xi=0.0, kappa=0.0)


def test_spearman_handles_ties_and_degenerate_input() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(0.8660254)
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 1, 1], [1, 2, 3]) is None


def test_a_prior_from_another_study_predicts_in_this_studys_units() -> None:
    x = [[float(i)] for i in range(10)]
    prior = GaussianProcess().fit(x, [(i - 4.5) / 3.0 for i in range(10)])  # another study, standardized
    for n in (2, 5):  # too few points to fit the link, and enough
        gp = GaussianProcess(prior=prior).fit(x[:n], [0.90 + 0.001 * i for i in range(n)])
        mean, _ = gp.predict([[9.0]])
        assert 0.85 < mean[0] < 1.0  # not the prior's own scale (about 1.5)
