"""The promotion gate: a challenger replaces the champion only on evidence. Its single run must first beat the
champion by the noise margin; then both are retrained on the study's evidence seeds and measured on the held-out
test split, a paired test decides, the challenger's changes are attributed, and the promotion goes through
automatically or waits for a person. Every step is a row or an event in the store, so a resumed study picks the case
up where it stood."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from evoforge.design import Design
from evoforge.goal import Goal
from evoforge.oversight import (
    AttributionPlan,
    attribute,
    changes,
    mean_ci,
    paired_bootstrap,
    paired_test,
    plan_attribution,
    unpack_outcomes,
)
from evoforge.spaces import Space
from evoforge.storage import NewGeneration, PromotionRecord, Replicate, Store, StudyRecord, TrialRecord
from evoforge.tasks import task_class


@dataclass(frozen=True)
class Champion:
    generation: int
    trial_number: int
    score: float
    design: Design


def trial_seed(search_seed: int, number: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{search_seed}:{number}".encode()).digest()[:4], "little")


def evidence_seeds(search_seed: int, k: int) -> list[int]:
    """The study's evidence seeds: the same for every design, so champion and challenger runs pair up; distinct
    from every trial's own seed."""
    return [
        int.from_bytes(hashlib.sha256(f"{search_seed}:evidence:{i}".encode()).digest()[:4], "little") for i in range(k)
    ]


def held_out(metrics: dict[str, float], stands_for: str = "val_accuracy") -> dict[str, float]:
    """A retraining's metrics with the held-out ``test_accuracy`` standing in for the validation metric it measures
    on held-out data (``Task.held_out_for``: ``val_accuracy``, or e.g. ``val_score`` for an optimizer measured on
    held-out training problems), so the goal's own score judges the evidence."""
    out = dict(metrics)
    if "test_accuracy" in out:
        out[stands_for] = out["test_accuracy"]
    return out


def single_run_beats(champion: Champion | None, score: float, margin: float) -> bool:
    """Whether a challenger's single run is worth the evidence: the first scored design always is; later ones
    must beat the champion by more than ``margin``, so re-measured noise does not cost retrainings."""
    return champion is None or score > champion.score + margin


class Gate:
    """The open promotion case of a study and what it still needs. Holds nothing the store does not hold."""

    def __init__(self, goal: Goal, store: Store, study: StudyRecord, space: Space) -> None:
        self.goal, self.store, self.study, self.space = goal, store, study, space
        self.seeds = evidence_seeds(goal.search.seed, goal.oversight.seeds)
        self.stands_for = task_class(str(goal.task["name"])).held_out_for
        self.done: dict[tuple[str, int], Replicate] = {(r.design_hash, r.seed): r for r in store.replicates(study.id)}
        self.cases = store.promotions(study.id)
        self.champion = self._champion()

    # -- what the study stands on ------------------------------------------------------------------------------------
    def _champion(self) -> Champion | None:
        gens = self.store.generations(self.study.id)
        if not gens:
            return None
        last = gens[-1]
        return Champion(last.number, last.trial_number, last.score, last.design)

    @property
    def case(self) -> PromotionRecord | None:
        """The case being gathered or waiting for a person; at most one at a time."""
        return next((c for c in self.cases if c.state in ("gathering", "pending")), None)

    @property
    def judged(self) -> set[int]:
        return {c.trial_number for c in self.cases}

    def refresh(self) -> bool:
        """Re-read cases and the champion (a person may have decided from another process); True if it changed."""
        before = (self.case, self.champion)
        self.cases = self.store.promotions(self.study.id)
        self.champion = self._champion()
        return (self.case, self.champion) != before

    # -- opening a case ----------------------------------------------------------------------------------------------
    def open(self, trial: TrialRecord) -> None:
        champion = self.champion.generation if self.champion else None
        self.cases.append(self.store.open_promotion(self.study.id, trial.number, champion))

    # -- what to measure ---------------------------------------------------------------------------------------------
    def needed(self, challenger: Design) -> list[tuple[Design, int]]:
        """(design, seed) retrainings the open case still lacks for its current stage."""
        case = self.case
        if case is None or case.state != "gathering":
            return []
        if case.evidence:  # the evidence passed: now the variants for attribution
            return [(d, s) for d, s in self._plan(challenger).measurements(self.seeds) if (d.hash, s) not in self.done]
        if self.champion is None:
            return [(challenger, s) for s in self.seeds if (challenger.hash, s) not in self.done]
        champion = [(self.champion.design, s) for s in self.seeds if (self.champion.design.hash, s) not in self.done]
        # The challenger one seed at a time, so that one found behind the champion is stopped early.
        mine = [s for s in self.seeds if (challenger.hash, s) not in self.done]
        return champion + [(challenger, mine[0])] if mine else champion

    def stopped_early(self, challenger: Design) -> str | None:
        """Why the evidence stops before all seeds are in: the challenger is not ahead of the champion on the seeds
        retrained so far (a futility stop: it can only cost a gain that would rarely have been significant)."""
        case = self.case
        if case is None or case.evidence or self.champion is None:
            return None
        pairs = [(self.score(challenger, s), self.score(self.champion.design, s)) for s in self.seeds]
        done = [a - b for a, b in pairs if a is not None and b is not None]
        if not done or len(done) == len(self.seeds) or sum(done) > 0:
            return None
        return (
            f"not ahead of the champion on the first {len(done)} of {len(self.seeds)} retrainings "
            f"(mean {sum(done) / len(done):+.4f}); stopped early"
        )

    def challenger_failed(self, challenger: Design) -> bool:
        """Whether a retraining of the challenger in the evidence stage came back without a result."""
        case = self.case
        if case is None or case.evidence:
            return False
        return any((r := self.done.get((challenger.hash, s))) is not None and r.metrics is None for s in self.seeds)

    def record(self, design: Design, seed: int, replicate: Replicate) -> None:
        self.store.add_replicate(self.study.id, design, seed, replicate)
        self.done[(design.hash, seed)] = replicate

    def _plan(self, challenger: Design) -> AttributionPlan:
        assert self.champion is not None
        a = self.goal.oversight.attribution
        seed = self.goal.search.seed * 1000 + (self.case.number if self.case else 0)
        return plan_attribution(self.champion.design, challenger, self.space, a.max_changes, a.permutations, seed)

    def score(self, design: Design, seed: int) -> float | None:
        replicate = self.done.get((design.hash, seed))
        if replicate is None or replicate.metrics is None:
            return None
        return self.goal.score(held_out(replicate.metrics, self.stands_for))

    # -- concluding --------------------------------------------------------------------------------------------------
    def conclude(self, trial: TrialRecord) -> Conclusion:
        """Judge the open case once its current stage's retrainings are all in."""
        case = self.case
        assert case is not None and case.state == "gathering" and case.trial_number == trial.number
        if not case.evidence:
            evidence = self._evidence(trial.design)
            if not evidence["significant"]:
                self._update(case, "declined", evidence=evidence)
                return Conclusion(case.number, "declined", evidence)
            if self.champion is not None and self.goal.oversight.attribution.enabled:
                self._update(case, "gathering", evidence=evidence)  # next: the variants for attribution
                return Conclusion(case.number, "gathering", evidence)
            return self._route(case, trial, evidence, None)
        outcomes = self.outcomes if self.goal.objective[0] == self.stands_for else None
        attribution = attribute(self._plan(trial.design), self.score, self.seeds, self.goal.oversight.level, outcomes)
        return self._route(case, trial, case.evidence, attribution)

    def _evidence(self, challenger: Design) -> dict[str, Any]:
        level = self.goal.oversight.level
        mine = {s: self.score(challenger, s) for s in self.seeds}
        failed = [s for s, v in mine.items() if v is None]
        base: dict[str, Any] = {"seeds": self.seeds, "challenger": mine, "held_out": self._held_out_split()}
        base["challenger_test"] = self._test_accuracy(challenger)
        futile = self.stopped_early(challenger)
        if futile:
            return {**base, "significant": False, "why": futile, "stopped_early": True}
        if failed:
            return {**base, "significant": False, "why": f"the challenger has no valid result on seed {failed[0]}"}
        valid = {s: v for s, v in mine.items() if v is not None}
        if self.champion is None:  # founding: nothing to beat, the evidence is the design's own interval
            return {**base, "founding": True, "significant": True, **mean_ci(list(valid.values()), level)}
        theirs = {s: self.score(self.champion.design, s) for s in self.seeds}
        pairs = [(valid[s], v) for s, v in theirs.items() if v is not None]
        base.update(champion=theirs, champion_test=self._test_accuracy(self.champion.design))
        if len(pairs) < 2:
            return {**base, "significant": False, "why": "fewer than two seeds where both have a result"}
        test = self._bootstrap(challenger, self.champion.design) or paired_test(
            [a for a, _ in pairs], [b for _, b in pairs], level
        )
        return {**base, **test, "champion_generation": self.champion.generation}

    def _bootstrap(self, challenger: Design, champion: Design) -> dict[str, Any] | None:
        """When the champion is judged on accuracy alone and the task gave per-input test results for every run,
        the paired bootstrap over seeds and test inputs; otherwise None (a t test on the scores is used)."""
        if self.goal.objective[0] != self.stands_for:
            return None
        mine = [self.outcomes(challenger, s) for s in self.seeds]
        theirs = [self.outcomes(champion, s) for s in self.seeds]
        if any(o is None for o in mine + theirs) or len({len(o) for o in mine + theirs if o is not None}) != 1:
            return None
        return paired_bootstrap(
            [o for o in mine if o is not None], [o for o in theirs if o is not None], self.goal.oversight.level
        )

    def outcomes(self, design: Design, seed: int) -> np.ndarray | None:
        replicate = self.done.get((design.hash, seed))
        packed = replicate.info.get("test_outcomes") if replicate is not None else None
        return unpack_outcomes(packed) if packed else None

    def _held_out_split(self) -> str:
        """What the evidence score was measured on: the test split when the score is built on accuracy (test
        accuracy stands in for validation accuracy); otherwise the retrained runs' own metrics."""
        p = self.goal.preference
        names = set(p.weights) if p is not None and p.weights else {self.goal.objective[0]}
        if names == {self.stands_for}:
            return "test split"
        if self.stands_for in names:
            return "test split for accuracy; retrained runs' own metrics for the rest"
        return "retrained runs' own metrics (the task measures no test value for them)"

    def _test_accuracy(self, design: Design) -> float | None:
        found = [self.done.get((design.hash, s)) for s in self.seeds]
        values = [r.metrics["test_accuracy"] for r in found if r is not None and r.metrics is not None]
        return sum(values) / len(values) if values else None

    def _route(
        self, case: PromotionRecord, trial: TrialRecord, evidence: dict[str, Any], attribution: dict[str, Any] | None
    ) -> Conclusion:
        oversight = self.goal.oversight
        human = oversight.promotion == "human" and self.champion is not None and not self._small(trial)
        if human:
            self._update(case, "pending", evidence=evidence, attribution=attribution, route="human")
            return Conclusion(case.number, "pending", evidence, attribution)
        generation = self.new_generation(trial, evidence)
        self._update(case, "promoted", evidence=evidence, attribution=attribution, route="auto", generation=generation)
        return Conclusion(case.number, "promoted", evidence, attribution)

    def _small(self, trial: TrialRecord) -> bool:
        """Whether ``auto_when`` lets this promotion through without a person."""
        rule = self.goal.oversight.auto_when
        if rule is None or self.champion is None:
            return False
        if rule.max_changes is not None and len(changes(self.champion.design, trial.design)) > rule.max_changes:
            return False
        if rule.max_param_growth is not None:
            mine = trial.metrics.get("params")
            held = [t for t in self.store.trials(self.study.id) if t.number == self.champion.trial_number]
            theirs = held[0].metrics.get("params") if held else None
            if not mine or not theirs or mine / theirs > rule.max_param_growth:
                return False
        return True

    def new_generation(self, trial: TrialRecord, evidence: dict[str, Any]) -> NewGeneration:
        number = 0 if self.champion is None else self.champion.generation + 1
        score = self.goal.score(trial.metrics)
        assert score is not None
        return NewGeneration(number, score, evidence.get("challenger_test"), reason_text(evidence, self.champion))

    def _update(self, case: PromotionRecord, state: str, **kwargs: Any) -> None:
        self.store.update_promotion(self.study.id, case.number, state, **kwargs)
        self.refresh()


@dataclass(frozen=True)
class Conclusion:
    case: int
    state: str  # gathering (attribution next) | declined | pending | promoted
    evidence: dict[str, Any]
    attribution: dict[str, Any] | None = None


def reason_text(evidence: dict[str, Any], champion: Champion | None) -> str:
    """One line of why a design was promoted, from its evidence."""
    n = len(evidence.get("seeds", []))
    if evidence.get("founding") or champion is None:
        ci = evidence.get("ci")
        interval = f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else ""
        return f"first feasible design: held-out score {evidence.get('mean', float('nan')):.4f}{interval} on {n} seeds"
    low, high = evidence["ci"]
    inputs = f" x {evidence['test_inputs']} test inputs" if "test_inputs" in evidence else ""
    return (
        f"held-out score {evidence['mean_diff']:+.4f} [{low:+.4f}, {high:+.4f}] over champion #{champion.trial_number} "
        f"(gen {champion.generation}) on {evidence['n']} paired seeds{inputs}, p={evidence['p_value']:.3g}"
    )
