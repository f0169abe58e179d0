"""The promotion gate on a constructed task: evidence decides, attribution explains, a person can hold the gate."""

from __future__ import annotations

from typing import Any

import pytest

from evoforge import Store
from evoforge._errors import StorageError
from evoforge.cli import main
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from evoforge.study._review import decide
from tests.conftest import strip_audit_chain
from tests.study.toy import TOY, cell, toy_goal

BASE = cell()
BETTER = cell(e0="nor_conv_3x3")  # +0.2 on every seed
HELP_AND_NOTHING = cell(e0="nor_conv_3x3", e3="skip_connect")  # e0 helps, e3 does nothing
EFFECTS = {"0:nor_conv_3x3": 0.2, "1:nor_conv_1x1": 0.1}


def _run(storage: str, cells: list[list[str]], trials: int, effects: dict[str, float] = EFFECTS, **extra: Any):  # type: ignore[no-untyped-def]
    report = run_study(goal_from_dict(toy_goal(cells, trials, effects, **extra)), storage, workers=0)
    store = Store(storage)
    study = store.get_study("toy")
    assert study is not None
    return report, store, study


def test_a_challenger_lucky_in_one_run_but_not_significantly_better_is_not_promoted(storage: str) -> None:
    # A tiny real gain (+0.001) drowned in run-to-run noise: the single run beats the champion, the evidence does not.
    effects = {"1:nor_conv_1x1": 0.001}
    task = {"name": TOY, "effects": effects, "design_noise": 0.02}
    goal = toy_goal([BASE, cell(e1="nor_conv_1x1")], 2, effects)
    goal["task"] = task
    goal["oversight"] = {"noise_margin": 0.0}
    goal["search"]["seed"] = 13  # a seed on which the challenger's single run is lucky (+0.027)
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("toy")
    assert study is not None
    trials = store.trials(study.id)
    assert trials[1].metrics["val_accuracy"] > trials[0].metrics["val_accuracy"]  # it won its single run
    case = store.promotions(study.id)[1]
    assert case.trial_number == 1 and case.state == "declined" and case.evidence and not case.evidence.significant
    assert case.evidence.ci is not None and case.evidence.ci[0] < 0 < case.evidence.ci[1]
    assert [g.trial_number for g in store.generations(study.id)] == [0]


def test_a_challenger_behind_the_champion_on_its_first_retraining_is_stopped_early(storage: str) -> None:
    effects = {"1:nor_conv_1x1": 0.001}
    goal = toy_goal([BASE, cell(e1="nor_conv_1x1")], 2, effects)
    goal["task"] = {"name": TOY, "effects": effects, "design_noise": 0.02}
    goal["oversight"] = {"noise_margin": 0.0}
    goal["search"]["seed"] = 1  # lucky single run (+0.027), then behind on the first evidence seed (-0.0009)
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    case = store.promotions(1)[1]
    assert case.state == "declined" and case.evidence and case.evidence.stopped_early
    assert "not ahead of the champion on the first 1 of 3 retrainings" in (case.evidence.why or "")
    challenger = store.trials(1)[1].design.hash
    assert sum(r.design_hash == challenger for r in store.replicates(1)) == 1  # two retrainings saved


def test_a_really_better_challenger_is_promoted_with_its_evidence(storage: str) -> None:
    report, store, study = _run(storage, [BASE, BETTER], 2)
    gens = store.generations(study.id)
    assert [g.trial_number for g in gens] == [0, 1] and report.generation == 1
    case = store.promotions(study.id)[1]
    assert case.state == "promoted" and case.route == "auto" and case.decided_by == "auto"
    evidence = case.evidence
    assert evidence is not None and evidence.significant and evidence.n == 3
    assert evidence.mean_diff == pytest.approx(0.2, abs=0.01) and evidence.metric == "val_accuracy"
    assert evidence.ci is not None and evidence.ci[0] > 0 and evidence.p_value is not None and evidence.p_value < 0.05
    assert gens[1].held_out == pytest.approx(evidence.challenger_held_out) and "paired seeds" in gens[1].reason
    # the champion's retrainings were reused: 3 seeds x 2 designs, plus the one variant (the champion itself)
    assert len(store.replicates(study.id)) == 6


def test_attribution_credits_the_change_that_helps_flags_the_one_that_does_nothing_and_tries_without_it(
    storage: str,
) -> None:
    _, store, study = _run(storage, [BASE, HELP_AND_NOTHING], 3)
    case = store.promotions(study.id)[1]
    assert case.attribution is not None
    helps, nothing = case.attribution.changes
    assert helps.name == "edges[0]" and helps.effect == "helps" and not helps.flagged
    assert helps.contribution is not None and helps.contribution.mean == pytest.approx(0.2, abs=0.01)
    assert nothing.name == "edges[3]" and nothing.flagged and nothing.effect == "no measurable effect"
    simpler = store.trials(study.id)[2]  # the simpler variant, proposed as a trial like any other
    assert simpler.proposer == "attribution" and simpler.parents == (1,) and simpler.design.view["edges"] == BETTER
    assert "without edges[3]" in simpler.rationale and simpler.state == "complete"


def test_the_human_gate_holds_a_promotion_until_a_person_approves(
    storage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    human = {"oversight": {"promotion": "human"}}
    report, store, study = _run(storage, [BASE, BETTER], 2, **human)
    assert "promotion 2 waits for a person" in report.stopped_because
    assert [g.trial_number for g in store.generations(study.id)] == [0]  # founding needs nobody; replacing does
    assert main(["review", "--storage", storage]) == 0
    shown = capsys.readouterr().out
    assert "promotion 2  [pending]  trial #1" in shown and "change: edges[0]: avg_pool_3x3 -> nor_conv_3x3" in shown
    assert "significant" in shown and "evoforge approve 2 --by NAME" in shown
    assert main(["approve", "2", "--by", "alice", "--comment", "clear gain", "--storage", storage]) == 0
    assert [g.trial_number for g in store.generations(study.id)] == [0, 1]
    case = store.promotions(study.id)[1]
    assert (case.state, case.decided_by, case.comment) == ("approved", "alice", "clear gain")
    approved = store.events(study.id, "approved")[-1]
    assert approved.payload == {"promotion": 2, "by": "alice", "comment": "clear gain"} and approved.trial_number == 1


def test_a_rejection_keeps_the_champion_and_the_search_goes_on(storage: str) -> None:
    human = {"oversight": {"promotion": "human"}}
    _, store, study = _run(storage, [BASE, BETTER, cell(e0="nor_conv_3x3", e1="nor_conv_1x1")], 2, **human)
    decide(store, study, 2, "rejected", "bob", "not this one")
    assert [g.trial_number for g in store.generations(study.id)] == [0]
    _, store, study = _run(storage, [BASE, BETTER, cell(e0="nor_conv_3x3", e1="nor_conv_1x1")], 3, **human)
    cases = store.promotions(study.id)
    assert [c.state for c in cases] == ["promoted", "rejected", "pending"] and cases[2].trial_number == 2


def test_decisions_are_final_and_bad_ones_change_nothing(storage: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, store, study = _run(storage, [BASE, BETTER], 2, oversight={"promotion": "human"})
    assert main(["approve", "2", "--by", "alice", "--storage", storage]) == 0
    before = len(store.events(study.id))
    for argv, message in (
        (["reject", "2", "--by", "bob"], "promotion 2 is not pending: it is approved by alice"),
        (["approve", "1", "--by", "bob"], "promotion 1 is not pending: it is promoted by auto"),
        (["approve", "9", "--by", "bob"], "promotion 9 does not exist"),
        (["approve", "2", "--by", " "], "--by: a decision needs the reviewer's name"),
    ):
        assert main([*argv, "--storage", storage]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["approve", "2", "--storage", storage])  # no --by at all: refused by the parser
    assert len(store.events(study.id)) == before and len(store.generations(study.id)) == 2


def test_a_tampered_store_refuses_a_decision(storage: str) -> None:
    import sqlite3

    _, store, study = _run(storage, [BASE, BETTER], 2, oversight={"promotion": "human"})
    con = sqlite3.connect(storage.removeprefix("sqlite:///"))
    with con:
        con.execute("UPDATE events SET payload_json = '{}' WHERE id = 3")
    con.close()
    with pytest.raises(StorageError, match="audit record is broken: event 3"):
        decide(store, study, 2, "approved", "alice")
    assert store.promotions(study.id)[1].state == "pending"


def test_a_rule_lets_small_changes_through_and_holds_bigger_ones(storage: str) -> None:
    bigger = cell(e0="nor_conv_3x3", e1="nor_conv_1x1", e2="skip_connect")
    oversight = {"promotion": "human", "auto_when": {"max_changes": 1}}
    _, store, study = _run(storage, [BASE, BETTER, bigger], 3, oversight=oversight)
    cases = store.promotions(study.id)
    assert [(c.trial_number, c.state, c.route) for c in cases] == [
        (0, "promoted", "auto"),
        (1, "promoted", "auto"),  # one change: automatic under the rule
        (2, "pending", "human"),  # two changes: a person decides
    ]


def test_a_rule_without_a_human_gate_is_refused() -> None:
    from evoforge._errors import GoalError

    with pytest.raises(GoalError, match="auto_when is for promotion: human"):
        goal_from_dict(toy_goal([BASE], 1, {}, oversight={"auto_when": {"max_changes": 1}}))


def test_a_challenger_whose_retraining_fails_is_declined_without_waiting_for_the_rest(storage: str) -> None:
    goal = toy_goal([BASE, BETTER], 2, EFFECTS)
    goal["task"]["broken"] = "0:nor_conv_3x3"
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    case = store.promotions(1)[1]
    assert case.state == "declined" and case.evidence and "no valid result" in (case.evidence.why or "")
    failed = [r for r in store.replicates(1) if r.metrics is None]
    assert len(failed) == 1 and "cannot be measured" in (failed[0].error or "")  # tried twice, recorded once
    assert [g.trial_number for g in store.generations(1)] == [0]


def test_evidence_retrainings_get_the_time_of_every_piece_a_trial_is_trained_in(storage: str) -> None:
    from tests.conftest import nb201_goal

    # Each piece of an early-stopped trial fits in 1.9 s; a retraining straight through takes 2 s.
    goal = nb201_goal(
        trials=2, scheduler={"name": "asha", "min_epochs": 12, "eta": 2}, budget={"trials": 2, "trial_timeout_s": 1.9}
    )
    goal["task"]["sleep_s"] = 2.0
    run_study(goal_from_dict(goal), storage, workers=1)
    store = Store(storage)
    assert all(r.metrics is not None for r in store.replicates(1))
    assert [g.trial_number for g in store.generations(1)] == [0]


def test_a_simpler_variant_lost_with_its_coordinator_is_proposed_on_resume(storage: str) -> None:
    import sqlite3

    _, store, study = _run(storage, [BASE, HELP_AND_NOTHING], 3)
    simpler = store.trials(study.id)[2]
    assert simpler.proposer == "attribution"
    # As if the coordinator had died after concluding the case and before proposing the variant: a store without it
    # (the chain is re-made as an upgrade would, so the study is not refused as tampered).
    con = sqlite3.connect(storage.removeprefix("sqlite:///"))
    with con:
        for table in ("lineage WHERE child_id", "artifacts WHERE trial_id", "trials WHERE id"):
            con.execute(f"DELETE FROM {table} = ?", (simpler.id,))
        con.execute("DELETE FROM events WHERE trial_number = 2")
    con.close()
    store.engine.dispose()
    strip_audit_chain(storage)
    _, store, study = _run(storage, [BASE, HELP_AND_NOTHING], 3)
    again = [t for t in store.trials(study.id) if t.proposer == "attribution"]
    assert len(again) == 1 and again[0].parents == (1,) and again[0].design == simpler.design
    assert again[0].state == "complete"
