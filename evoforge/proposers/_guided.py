from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.pareto import dominates
from evoforge.predictors import ACQUISITIONS, GaussianProcess, acquire
from evoforge.proposers._base import Proposal, Proposer, Told, Values
from evoforge.proposers._credit import Credit
from evoforge.proposers._evolution import tournament
from evoforge.spaces import Mutation, Space

ROUTES = ("predictor", "evolution")
ROUTE_PRIORS = {"predictor": 0.5, "evolution": 0.3}  # prior win rates of the two routes
GRID_EVERY = 1.15  # re-select the predictor's hyperparameters when the data has grown by this factor


class GuidedProposer(Proposer):
    """Predictor-guided evolution: a Gaussian process trained on the study's own results ranks many candidate
    mutations with an acquisition function, and only the best candidate is trained.

    After ``initial`` random designs, each proposal takes one of two routes, chosen by credit (how often each
    route's children beat their parents in this study, with an exploration floor):

    - ``predictor``: ``candidates`` children are made by mutating the ``parents`` best designs (by the
      predictor's mean, which discounts lucky measurements) and tournament winners from the aging population, a
      ``random_share`` of them sampled fresh; the operator for each is chosen by its credit. The child with the
      best acquisition (``ei`` expected improvement, ``ucb`` upper confidence bound, ``ts`` Thompson sampling) is
      proposed.
    - ``evolution``: a plain regularized-evolution child (tournament of ``tournament`` in the last
      ``population`` results), so a study where the predictor misleads still makes progress.

    When the space can list its distinct functions and has at most ``exhaustive`` of them (NAS-Bench-201 has
    5,485), every untried one is a candidate as well, so the acquisition is maximized over the whole space.
    No design is proposed whose function (``space.canonical``) was proposed before. With several objectives the
    acquisition works on a random augmented-Chebyshev scalarization per proposal (ParEGO). Every proposal records
    the predictor's forecast for its design, so the predictor's quality can be tracked against what was measured.
    """

    name = "guided"

    def __init__(
        self,
        space: Space,
        seed: int,
        start_from: Design | None = None,
        *,
        population: int = 16,
        tournament: int | None = None,
        initial: int = 10,
        candidates: int = 100,
        acquisition: str = "ei",
        xi: float = 0.0,
        kappa: float = 2.0,
        parents: int = 5,
        random_share: float = 0.1,
        two_step_share: float = 0.25,
        floor: float = 0.2,
        operator_priors: dict[str, float] | None = None,
        route_priors: dict[str, float] | None = None,
        clip_iqr: float = 1.5,
        exhaustive: int = 20_000,
    ) -> None:
        super().__init__(space, seed, start_from)
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"acquisition: unknown {acquisition!r} (known: {', '.join(ACQUISITIONS)})")
        for key, value in (("random_share", random_share), ("two_step_share", two_step_share), ("floor", floor)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{key}: expected a fraction in [0, 1], got {value}")
        for key, count in (("initial", initial), ("candidates", candidates), ("parents", parents)):
            if not isinstance(count, int) or count < 1:
                raise ValueError(f"{key}: expected a whole number >= 1, got {count!r}")
        self.population: deque[int] = deque(maxlen=population)
        self.tournament = min(tournament or max(2, population // 2), population)
        self.initial, self.candidates, self.acquisition = max(initial, 1), max(candidates, 1), acquisition
        self.xi, self.kappa, self.parents = xi, kappa, max(parents, 1)
        self.random_share, self.two_step_share, self.clip_iqr = random_share, two_step_share, clip_iqr
        self.exhaustive = exhaustive
        self._everything: list[Design] | None = space.enumerate(exhaustive) if exhaustive > 0 else None
        self._everything_keys: list[str] = []
        self._everything_x: np.ndarray | None = None
        self.settings = {"floor": floor, "operator_priors": operator_priors, "route_priors": route_priors}
        self.operators = Credit(space.operators, floor, operator_priors)
        self.routes = Credit(ROUTES, floor, route_priors or ROUTE_PRIORS)
        self.values: dict[int, Values] = {}
        self.designs: dict[int, Design] = {}
        self.order: list[int] = []  # numbers with values, in the order told: the predictor's training data
        self.seen: set[str] = set()
        self.prior: GaussianProcess | None = None
        self.transferred: int = 0
        self._hyper: dict[int, tuple[float, float]] = {}
        self._model: tuple[int, GaussianProcess] | None = None
        self._features: dict[Design, list[float]] = {}
        self._version = space.version

    @classmethod
    def from_search(cls, search: Search, space: Space, start_from: Design | None = None) -> GuidedProposer:
        return cls(space, search.seed, start_from, **search.proposer_options())

    # -- learning ---------------------------------------------------------------------------------------------------
    def tell(self, number: int, design: Design, values: Values | None, proposal: Proposal | None = None) -> None:
        self.seen.add(self.space.canonical(design))
        if values is not None:
            self.values[number], self.designs[number] = tuple(values), design
            self.population.append(number)
            self.order.append(number)
        if proposal is None or not proposal.parents or proposal.operator is None:
            return
        parent = self.values.get(proposal.parents[0])
        if parent is None:
            return
        won = values is not None and _beats(values, parent)
        gain = float(values[0] - parent[0]) if won and values is not None else 0.0
        for op in proposal.operator.split("+"):
            self.operators.update(op, won, gain)
        route = proposal.info.get("route")
        if route in ROUTES:
            self.routes.update(route, won, gain)

    def warm_start(self, studies: Sequence[Sequence[Told]]) -> None:
        """Operator and route credit from the earlier studies' histories (each use counted half), and a predictor
        trained on their results (each study's values standardized on its own) as the prior mean of this one's."""
        xs: list[list[float]] = []
        ys: list[float] = []
        for told in studies:
            replay = GuidedProposer(self.space, self.seed, **self._replay_settings())
            for t in told:
                replay.tell(t.number, t.design, t.values, t.proposal)
            self.operators.warm(replay.operators.snapshot())
            self.routes.warm(replay.routes.snapshot())
            points = [(t.design, t.values[0]) for t in told if t.values is not None]
            if len(points) < 2:
                continue
            vals = [v for _, v in points]
            mean = sum(vals) / len(vals)
            std = (sum((v - mean) ** 2 for v in vals) / len(vals)) ** 0.5 or 1.0
            xs += [self._feature(d) for d, _ in points]
            ys += [(v - mean) / std for v in vals]
        if len(ys) >= 2:
            self.prior = GaussianProcess(self.clip_iqr).fit(xs, ys)
            self.transferred = len(ys)

    def _replay_settings(self) -> dict[str, Any]:
        return {
            "population": self.population.maxlen or 16,
            "floor": self.settings["floor"],
            "operator_priors": self.settings["operator_priors"],
            "route_priors": self.settings["route_priors"],
        }

    def insights(self) -> dict[str, Any]:
        out: dict[str, Any] = {"operators": self.operators.snapshot(), "routes": self.routes.snapshot()}
        model = self._fitted()
        if model is not None:
            fit = model.fit_info
            assert fit is not None
            out["predictor"] = {
                "kind": "gaussian process (Matern 5/2)",
                "points": len(self.order),
                "lengthscale": fit.lengthscale,
                "noise": fit.noise,
                "transferred_points": self.transferred,
            }
        return out

    # -- proposing --------------------------------------------------------------------------------------------------
    def ask(self, number: int) -> Proposal:
        start = self._start(number)
        if start is not None:
            self.seen.add(self.space.canonical(start.design))
            return start
        rng = self.rng(number)
        if len(self.order) < 2 or (len(self.order) < self.initial and self.prior is None):
            design = self._fresh_sample(rng)
            why = f"random sample (the predictor trains on the first {self.initial} results)"
            return self._note(Proposal(design, (), None, why, self._forecast(design, "random")))
        route = self.routes.choose(rng)
        if route == "evolution":
            return self._evolution(rng)
        return self._predicted(rng, number)

    def _evolution(self, rng: random.Random) -> Proposal:
        members = list(self.population)
        parent = members[tournament([self.values[n] for n in members], self.tournament, rng)]
        mutation = self._fresh_mutation(self.designs[parent], rng)
        size = min(self.tournament, len(members))
        why = f"{mutation.rationale} (parent #{parent} won a tournament of {size}; evolution route)"
        info = self._forecast(mutation.design, "evolution")
        return self._note(Proposal(mutation.design, (parent,), mutation.operator, why, info))

    def _predicted(self, rng: random.Random, number: int) -> Proposal:
        model = self._fitted()
        assert model is not None
        target = self._target_model(rng, model)
        parents = self._parents(rng, model)
        pool: list[tuple[Design, int | None, Mutation | None]] = []
        keys: set[str] = set()
        for _ in range(self.candidates * 2):
            if len(pool) >= self.candidates:
                break
            if rng.random() < self.random_share:
                design, parent, mutation = self.space.sample(rng), None, None
            else:
                parent = rng.choice(parents)
                mutation = self._mutation(self.designs[parent], rng)
                design = mutation.design
            key = self.space.canonical(design)
            if key in self.seen or key in keys:
                continue
            keys.add(key)
            pool.append((design, parent, mutation))
        x = np.asarray([self._feature(d) for d, _, _ in pool], dtype=float)
        if self._everything is not None:  # a small space: every untried function is a candidate too
            everything_x = self._listed()
            extra = [i for i, k in enumerate(self._everything_keys) if k not in self.seen and k not in keys]
            pool += [(self._everything[i], None, None) for i in extra]
            x = np.vstack([x.reshape(-1, everything_x.shape[1]), everything_x[extra]])
        if not pool:
            return self._evolution(rng)
        mean, std = target.predict(x)
        best = max(target.predict([self._feature(self.designs[n]) for n in self.order])[0])
        scores = acquire(self.acquisition, mean, std, float(best), rng, xi=self.xi, kappa=self.kappa)
        i = int(scores.argmax())
        design, parent, mutation = pool[i]
        info = self._forecast(design, "predictor")
        info.update({"acquisition": self.acquisition, "score": float(scores[i]), "candidates": len(pool)})
        forecast = f"predicted {info['predicted']:.4g} ± {info['std']:.2g}"
        pick = f"best {self.acquisition.upper()} of {len(pool)} candidates"
        if self._everything is not None:
            pick += " (every untried function of the space among them)"
        if mutation is None or parent is None:
            kind = "an untried design of the space" if self._everything is not None else "random sample"
            return self._note(Proposal(design, (), None, f"{kind}, {forecast} ({pick})", info))
        why = f"{mutation.rationale} (parent #{parent}; {forecast}, {pick})"
        return self._note(Proposal(design, (parent,), mutation.operator, why, info))

    def _listed(self) -> np.ndarray:
        """Features of every listed design of a small space, computed once."""
        if self._everything_x is None:
            assert self._everything is not None
            self._everything_keys = [self.space.canonical(d) for d in self._everything]
            self._everything_x = np.asarray([self.space.features(d) for d in self._everything], dtype=float)
        return self._everything_x

    def _parents(self, rng: random.Random, model: GaussianProcess) -> list[int]:
        """The best designs by the predictor's mean (a denoised view of the measurements), plus tournament winners
        from the aging population (so the search does not collapse onto one neighbourhood)."""
        numbers = list(self.order)
        mean = model.predict([self._feature(self.designs[n]) for n in numbers])[0]
        ranked = [numbers[i] for i in sorted(range(len(numbers)), key=lambda i: -mean[i])]
        chosen = ranked[: self.parents]
        members = list(self.population)
        points = [self.values[n] for n in members]
        for _ in range(self.parents):
            winner = members[tournament(points, self.tournament, rng)]
            if winner not in chosen:
                chosen.append(winner)
        return chosen

    def _mutation(self, design: Design, rng: random.Random) -> Mutation:
        steps = 2 if rng.random() < self.two_step_share else 1
        current, ops, reasons = design, [], []
        for _ in range(steps):
            op = self.operators.choose(rng)
            try:
                step = self.space.mutate(current, rng, op)
            except ValueError:  # this operator cannot change this design; any other can
                step = self.space.mutate(current, rng)
            current = step.design
            ops.append(step.operator)
            reasons.append(step.rationale)
        if current == design:
            return self.space.mutate(design, rng)
        return Mutation(current, "+".join(ops), "; ".join(reasons))

    def _fresh_mutation(self, design: Design, rng: random.Random) -> Mutation:
        mutation = self._mutation(design, rng)
        for _ in range(20):
            if self.space.canonical(mutation.design) not in self.seen:
                break
            mutation = self._mutation(design, rng)
        return mutation

    def _fresh_sample(self, rng: random.Random) -> Design:
        design = self.space.sample(rng)
        for _ in range(100):
            if self.space.canonical(design) not in self.seen:
                break
            design = self.space.sample(rng)
        return design

    def _note(self, proposal: Proposal) -> Proposal:
        self.seen.add(self.space.canonical(proposal.design))
        return proposal

    # -- the predictor ----------------------------------------------------------------------------------------------
    def _sync(self) -> None:
        """A space that learned a parameter since (``Space.version``) encodes designs at another length: every
        encoding and fit made before is dropped."""
        if self._version != self.space.version:
            self._version = self.space.version
            self._features.clear()
            self._hyper.clear()
            self._model = None

    def _feature(self, design: Design) -> list[float]:
        self._sync()
        f = self._features.get(design)
        if f is None:
            f = self._features[design] = self.space.features(design)
        return f

    def _fitted(self) -> GaussianProcess | None:
        """The predictor of the first objective on all results so far (refitted when results arrive)."""
        n = len(self.order)
        if n < 2:
            return None
        self._sync()
        if self._model is not None and self._model[0] == n:
            return self._model[1]
        x = [self._feature(self.designs[k]) for k in self.order]
        y = [self.values[k][0] for k in self.order]
        model = GaussianProcess(self.clip_iqr, self.prior).fit(x, y, self._hyperparameters(n, x, y))
        self._model = (n, model)
        return model

    def _hyperparameters(self, n: int, x: list[list[float]], y: list[float]) -> tuple[float, float]:
        """Grid-searched on the first m results, m the last point of a fixed schedule at or below n, so the choice
        depends only on the results told (a resumed study chooses as the uninterrupted one did)."""
        m = _grid_point(n)
        if m not in self._hyper:
            fit = GaussianProcess(self.clip_iqr, self.prior).fit(x[:m], y[:m]).fit_info
            assert fit is not None
            self._hyper[m] = (fit.lengthscale, fit.noise)
        return self._hyper[m]

    def _target_model(self, rng: random.Random, model: GaussianProcess) -> GaussianProcess:
        """What the acquisition maximizes: the first objective, or with several objectives a random
        augmented-Chebyshev scalarization of them, each scaled to [0, 1] over the results so far (ParEGO)."""
        k = len(next(iter(self.values.values())))
        if k == 1:
            return model
        weights = [rng.random() + 1e-9 for _ in range(k)]
        total = sum(weights)
        weights = [w / total for w in weights]
        lows = [min(self.values[n][j] for n in self.order) for j in range(k)]
        highs = [max(self.values[n][j] for n in self.order) for j in range(k)]

        def scalar(v: Values) -> float:
            scaled = [(v[j] - lows[j]) / ((highs[j] - lows[j]) or 1.0) for j in range(k)]
            parts = [w * s for w, s in zip(weights, scaled, strict=True)]
            return min(parts) + 0.05 * sum(parts)

        x = [self._feature(self.designs[n]) for n in self.order]
        y = [scalar(self.values[n]) for n in self.order]
        fit = model.fit_info
        assert fit is not None
        return GaussianProcess(self.clip_iqr).fit(x, y, (fit.lengthscale, fit.noise))

    def _forecast(self, design: Design, route: str) -> dict[str, Any]:
        model = self._fitted()
        if model is None:
            return {"route": route}
        mean, std = model.predict([self._feature(design)])
        return {"route": route, "predicted": float(mean[0]), "std": float(std[0])}


def _grid_point(n: int) -> int:
    if n < 40:
        return n
    m = 40.0
    while m * GRID_EVERY <= n:
        m *= GRID_EVERY
    return int(m)


def _beats(child: Values, parent: Values) -> bool:
    if len(child) == 1:
        return child[0] > parent[0]
    return dominates(child, parent)
