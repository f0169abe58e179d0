from __future__ import annotations

import pytest

from evoforge.goal import Schedule
from evoforge.schedulers import ASHAScheduler, FullScheduler, HyperbandScheduler, make_scheduler, milestones


def test_milestones_snap_rungs_to_what_the_task_can_report() -> None:
    assert milestones([1, 3, 9, 27], list(range(1, 21))) == [1, 3, 9, 20]
    assert milestones([1, 3, 9], [12, 200]) == [12, 200]  # NAS-Bench-201: 12 and 200 epochs only
    assert ASHAScheduler(min_epochs=2, eta=2).stops(0, list(range(1, 9))) == [2, 4, 8]
    assert FullScheduler().stops(0, list(range(1, 9))) == [8]


def test_asha_stops_a_curve_below_the_top_third_and_keeps_the_best() -> None:
    asha = ASHAScheduler(min_epochs=1, eta=3)
    # Scripted learning curves: value at epoch 1 for trials 0..5, reported in this order.
    decisions = [asha.report(n, 1, v) for n, v in enumerate([0.50, 0.60, 0.40, 0.70, 0.55, 0.65])]
    # 0.50 first: nothing to compare, continue. 0.60: top third of {0.5, 0.6}. 0.40: below. 0.70: new best.
    # 0.55 of {.5,.6,.4,.7,.55}: the 2/3 quantile is 0.6 -> stop. 0.65 of six values: quantile 0.625 -> go on.
    assert decisions == [True, True, False, True, False, True]


def test_asha_judges_each_rung_separately() -> None:
    asha = ASHAScheduler(min_epochs=1, eta=3)
    for n, v in enumerate([0.9, 0.8, 0.7]):
        asha.report(n, 1, v)
    assert asha.report(0, 3, 0.5)  # the first value at rung 3 passes whatever rung 1 looked like
    assert not asha.report(1, 3, 0.4)


def test_a_report_repeated_after_a_crash_is_recorded_once() -> None:
    asha = ASHAScheduler(min_epochs=1, eta=2)
    asha.report(0, 1, 0.9)
    asha.report(1, 1, 0.1)
    asha.report(1, 1, 0.1)  # trial 1 re-run from scratch reports the same rung again
    assert asha.recorded[1] == {0: 0.9, 1: 0.1}


def test_hyperband_deals_trials_to_brackets_with_later_first_rungs() -> None:
    hb = HyperbandScheduler(min_epochs=1, eta=3, brackets=3)
    fidelities = list(range(1, 28))
    assert [hb.stops(n, fidelities) for n in range(3)] == [[1, 3, 9, 27], [3, 9, 27], [9, 27]]
    hb.report(0, 1, 0.9)
    assert hb.report(3, 1, 0.1) is False  # trial 3 shares bracket 0 with trial 0
    assert hb.report(1, 3, 0.1) is True  # bracket 1 has seen nothing yet


@pytest.mark.parametrize("name", ["none", "asha", "hyperband"])
def test_the_goal_names_the_scheduler(name: str) -> None:
    assert make_scheduler(Schedule(name=name)).name == name  # type: ignore[arg-type]
