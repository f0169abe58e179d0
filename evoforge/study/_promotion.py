"""The promotion gate: a challenger replaces the champion only on evidence. Its single run must first beat the
champion by the noise margin; then both are retrained on the study's evidence seeds and measured on the held-out
split, a paired test decides, the challenger's changes are attributed, and the promotion goes through
automatically or waits for a person. Every step is a row or an event in the store, so a resumed study picks the case
up where it stood.

The held-out judge is the goal's own score (its objective with its direction, or its weighted sum) computed from
what each retraining measured on the held-out split (``test_<metric>``); a metric the task measures no held-out value
for is taken from the retrained run itself, and the evidence says which."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

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
    unpack_samples,
)
from evoforge.spaces import Space
from evoforge.storage import (
    Attribution,
    Evidence,
    NewGeneration,
    PromotionRecord,
    PromotionState,
    Replicate,
    Store,
    StudyRecord,
    TrialRecord,
    held_out_name,
)


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


def judged_metrics(goal: Goal) -> list[str]:
    """The metrics the champion's score is built from: the judged objective, or every weighted one."""
    p = goal.preference
    return list(p.weights) if p is not None and p.weights else [goal.objective[0]]


def held_out(goal: Goal, metrics: dict[str, float]) -> dict[str, float]:
    """A retraining's metrics with each judged metric replaced by its value on the held-out split, where the
    retraining measured one (``test_<metric>``), so the goal's own score judges the evidence."""
    out = dict(metrics)
    for metric in judged_metrics(goal):
        if held_out_name(metric) in metrics:
            out[metric] = metrics[held_out_name(metric)]
    return out


def single_run_beats(champion: Champion | None, score: float, margin: float) -> bool:
    """Whether a challenger's single run is worth the evidence: the first scored design always is; later ones
    must beat the champion by more than ``margin``, so re-measured noise does not cost retrainings."""
    return champion is None or score > champion.score + margin


@dataclass(frozen=True)
class Conclusion:
    case: int
    state: PromotionState  # gathering (attribution next) | declined | pending | promoted
    evidence: Evidence
    attribution: Attribution | None = None


class Gate:
    """The open promotion case of a study and what it still needs. Holds nothing the store does not hold."""

    def __init__(self, goal: Goal, store: Store, study: StudyRecord, space: Space) -> None:
        self.goal, self.store, self.study, self.space = goal, store, study, space
        self.seeds = evidence_seeds(goal.search.seed, goal.oversight.seeds)
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
        return next((c for c in self.cases if c.state.open), None)

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
        if case is None or case.state != PromotionState.GATHERING:
            return []
        if case.evidence is not None:  # the evidence passed: now the variants for attribution
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
        if case is None or case.evidence is not None or self.champion is None:
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
        if case is None or case.evidence is not None:
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
        return self.goal.score(held_out(self.goal, replicate.metrics))

    def samples(self, design: Design, seed: int) -> np.ndarray | None:
        """Per held-out input values of the judged objective on one retraining, oriented so that higher is better;
        None when the score is a weighted sum or the task measured no per-input values for the metric."""
        metric, direction = self.goal.objective
        replicate = self.done.get((design.hash, seed))
        if replicate is None or metric not in self.goal.objectives:
            return None
        packed = replicate.info.get("samples", {}).get(held_out_name(metric))
        if packed is None and metric == "val_accuracy":
            packed = replicate.info.get("test_outcomes")  # stores from before per-input values of other metrics
        if packed is None:
            return None
        try:
            values = unpack_samples(packed)
        except (ValueError, KeyError, TypeError):
            return None
        return values if direction == "max" else -values

    # -- concluding --------------------------------------------------------------------------------------------------
    def conclude(self, trial: TrialRecord) -> Conclusion:
        """Judge the open case once its current stage's retrainings are all in."""
        case = self.case
        assert case is not None and case.state == PromotionState.GATHERING and case.trial_number == trial.number
        if case.evidence is None:
            evidence = self._evidence(trial.design)
            if not evidence.significant:
                self._update(case, PromotionState.DECLINED, evidence=evidence)
                return Conclusion(case.number, PromotionState.DECLINED, evidence)
            if self.champion is not None and self.goal.oversight.attribution.enabled:
                self._update(case, PromotionState.GATHERING, evidence=evidence)  # next: the variants for attribution
                return Conclusion(case.number, PromotionState.GATHERING, evidence)
            return self._route(case, trial, evidence, None)
        per_input = self.samples if self.goal.objective[0] in self.goal.objectives else None
        attribution = attribute(self._plan(trial.design), self.score, self.seeds, self.goal.oversight.level, per_input)
        return self._route(case, trial, case.evidence, attribution)

    def _evidence(self, challenger: Design) -> Evidence:
        level = self.goal.oversight.level
        metric, direction = self.goal.objective
        mine = {s: self.score(challenger, s) for s in self.seeds}
        failed = [s for s, v in mine.items() if v is None]
        base = Evidence(
            tuple(self.seeds),
            False,
            held_out=self._held_out_split([challenger]),
            metric=metric,
            direction=direction,
            challenger={str(s): v for s, v in mine.items()},
            challenger_held_out=self._held_out_mean(challenger),
        )
        futile = self.stopped_early(challenger)
        if futile:
            return _with(base, why=futile, stopped_early=True)
        if failed:
            return _with(base, why=f"the challenger has no valid result on seed {failed[0]}")
        valid = {s: v for s, v in mine.items() if v is not None}
        if self.champion is None:  # founding: nothing to beat, the evidence is the design's own interval
            sign = -1.0 if direction == "min" else 1.0  # in the metric's own units
            own = mean_ci([sign * v for v in valid.values()], level)
            ci = tuple(own["ci"]) if own["ci"] else None
            return _with(base, founding=True, significant=True, mean=own["mean"], ci=ci, n=own["n"], level=level)
        champion = self.champion.design
        theirs = {s: self.score(champion, s) for s in self.seeds}
        pairs = [(valid[s], v) for s, v in theirs.items() if v is not None]
        base = _with(
            base,
            held_out=self._held_out_split([challenger, champion]),
            champion={str(s): v for s, v in theirs.items()},
            champion_held_out=self._held_out_mean(champion),
            champion_generation=self.champion.generation,
        )
        if len(pairs) < 2:
            return _with(base, why="fewer than two seeds where both have a result")
        test = self._bootstrap(challenger, champion) or paired_test([a for a, _ in pairs], [b for _, b in pairs], level)
        ci = tuple(test["ci"]) if test.get("ci") else None
        fields = {k: test[k] for k in ("n", "sd", "level", "test", "p_value", "test_inputs") if k in test}
        return _with(base, significant=bool(test["significant"]), mean_diff=test["mean_diff"], ci=ci, **fields)

    def _bootstrap(self, challenger: Design, champion: Design) -> dict | None:
        """When the champion is judged on one objective and every retraining has its per-input held-out values (on
        the same inputs), the paired bootstrap over seeds and inputs; otherwise None (a t test on the scores)."""
        mine = [self.samples(challenger, s) for s in self.seeds]
        theirs = [self.samples(champion, s) for s in self.seeds]
        if any(o is None for o in mine + theirs) or len({len(o) for o in mine + theirs if o is not None}) != 1:
            return None
        return paired_bootstrap(
            [o for o in mine if o is not None], [o for o in theirs if o is not None], self.goal.oversight.level
        )

    def _held_out_split(self, designs: list[Design]) -> str:
        """What the evidence score was measured on: the held-out split for every judged metric the retrainings
        measured there; the retrained runs' own values for the rest, named."""
        runs = [r for d in designs for s in self.seeds if (r := self.done.get((d.hash, s))) and r.metrics]
        names = judged_metrics(self.goal)
        own = [m for m in names if not runs or any(held_out_name(m) not in r.metrics for r in runs if r.metrics)]
        if not own:
            return "held-out split"
        if len(own) == len(names):
            notes = sorted({str(r.info["held_out_note"]) for r in runs if r.info.get("held_out_note")})
            why = "; ".join(notes) or "the task measured no held-out value for them"
            return f"retrained runs' own metrics, not held out ({why})"
        return f"held-out split; retrained runs' own values for {', '.join(own)} (no held-out value)"

    def _held_out_mean(self, design: Design) -> float | None:
        """The mean over the evidence retrainings of the judged metric on the held-out split, in its own units."""
        metric = self.goal.objective[0]
        found = [self.done.get((design.hash, s)) for s in self.seeds]
        values = [
            r.metrics[held_out_name(metric)]
            for r in found
            if r is not None and r.metrics is not None and held_out_name(metric) in r.metrics
        ]
        return sum(values) / len(values) if values else None

    def _route(
        self, case: PromotionRecord, trial: TrialRecord, evidence: Evidence, attribution: Attribution | None
    ) -> Conclusion:
        oversight = self.goal.oversight
        human = oversight.promotion == "human" and self.champion is not None and not self._small(trial)
        if human:
            self._update(case, PromotionState.PENDING, evidence=evidence, attribution=attribution, route="human")
            return Conclusion(case.number, PromotionState.PENDING, evidence, attribution)
        generation = self.new_generation(trial, evidence)
        self._update(
            case,
            PromotionState.PROMOTED,
            evidence=evidence,
            attribution=attribution,
            route="auto",
            generation=generation,
        )
        return Conclusion(case.number, PromotionState.PROMOTED, evidence, attribution)

    def _small(self, trial: TrialRecord) -> bool:
        """Whether ``auto_when`` lets this promotion through without a person."""
        rule = self.goal.oversight.auto_when
        if rule is None or self.champion is None:
            return False
        if rule.max_changes is not None and len(changes(self.champion.design, trial.design)) > rule.max_changes:
            return False
        if rule.max_param_growth is not None:
            mine = trial.metrics.get("params")
            held = self.store.trials(self.study.id, numbers=(self.champion.trial_number,))
            theirs = held[0].metrics.get("params") if held else None
            if not mine or not theirs or mine / theirs > rule.max_param_growth:
                return False
        return True

    def new_generation(self, trial: TrialRecord, evidence: Evidence) -> NewGeneration:
        number = 0 if self.champion is None else self.champion.generation + 1
        score = self.goal.score(trial.metrics)
        assert score is not None
        return NewGeneration(number, score, evidence.challenger_held_out, reason_text(evidence, self.champion))

    def _update(
        self,
        case: PromotionRecord,
        state: PromotionState,
        *,
        evidence: Evidence | None = None,
        attribution: Attribution | None = None,
        route: str | None = None,
        generation: NewGeneration | None = None,
    ) -> None:
        self.store.update_promotion(
            self.study.id,
            case.number,
            state,
            evidence=evidence,
            attribution=attribution,
            route=route,
            generation=generation,
        )
        self.refresh()


def _with(evidence: Evidence, **fields: object) -> Evidence:
    return replace(evidence, **fields)  # type: ignore[arg-type]


def reason_text(evidence: Evidence, champion: Champion | None) -> str:
    """One line of why a design was promoted, from its evidence."""
    n = len(evidence.seeds)
    metric = evidence.metric or "score"
    if evidence.founding or champion is None:
        ci = evidence.ci
        interval = f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else ""
        mean = evidence.mean if evidence.mean is not None else float("nan")
        return f"first feasible design: {metric} {mean:.4f}{interval} on {n} seeds, measured on the {evidence.held_out}"
    assert evidence.ci is not None and evidence.mean_diff is not None
    low, high = evidence.ci
    inputs = f" x {evidence.test_inputs} held-out inputs" if evidence.test_inputs else ""
    p = f", p={evidence.p_value:.3g}" if evidence.p_value is not None else ""
    return (
        f"{metric} {_gain(evidence)} [{low:+.4f}, {high:+.4f}] over champion #{champion.trial_number} "
        f"(gen {champion.generation}) on {evidence.n} paired seeds{inputs}{p}, measured on the {evidence.held_out}"
    )


def _gain(evidence: Evidence) -> str:
    """The mean gain in words: a minimized metric gains by going down."""
    assert evidence.mean_diff is not None
    return f"{'decrease' if evidence.direction == 'min' else 'gain'} {evidence.mean_diff:+.4f}"
