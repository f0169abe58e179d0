"""The store's part of oversight: promotions (a challenger's case, its evidence and the decision) and replicates
(designs retrained on evidence seeds). It records; the gate in ``evoforge.study`` decides."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from evoforge._errors import StorageError
from evoforge.design import Design
from evoforge.storage import _schema as t
from evoforge.storage._records import (
    Attribution,
    Evidence,
    NewGeneration,
    PromotionRecord,
    PromotionState,
    Replicate,
)
from evoforge.storage._sql import append_event, insert_design, insert_generation, trial_id

DECISIONS = ("approved", "rejected")


class PromotionRows:
    engine: Engine  # reads
    writer: Engine  # writes (see evoforge.storage._engine.writer_engine)

    def open_promotion(self, study_id: int, trial_number: int, champion_generation: int | None) -> PromotionRecord:
        """Start gathering evidence for trial ``trial_number`` against ``champion_generation``; a trial is judged
        once, so opening a second case for it is an error."""
        now = time.time()
        try:
            with self.writer.begin() as c:
                tid = trial_id(c, study_id, trial_number)
                last = c.execute(select(func.max(t.promotions.c.number)).where(t.promotions.c.study_id == study_id))
                number = (last.scalar() or 0) + 1
                c.execute(
                    insert(t.promotions).values(
                        study_id=study_id,
                        number=number,
                        trial_id=tid,
                        champion_generation=champion_generation,
                        state="gathering",
                        created_at=now,
                    )
                )
                payload = {"promotion": number, "champion_generation": champion_generation}
                append_event(c, study_id, "challenge", trial_number, payload)
        except IntegrityError:
            raise StorageError(f"trial {trial_number} already has a promotion case") from None
        return PromotionRecord(number, trial_number, champion_generation, PromotionState.GATHERING, created_at=now)

    def update_promotion(
        self,
        study_id: int,
        number: int,
        state: PromotionState | str,
        *,
        evidence: Evidence | None = None,
        attribution: Attribution | None = None,
        route: str | None = None,
        generation: NewGeneration | None = None,
    ) -> None:
        """Record what the gate found (evidence, attribution, the route) and the new state, with the generation it
        founds when the case is promoted automatically, in one transaction."""
        state = PromotionState(state)
        found = evidence.to_dict() if evidence is not None else None
        credit = attribution.to_dict() if attribution is not None else None
        values: dict[str, Any] = {"state": state.value}
        if found is not None:
            values["evidence_json"] = json.dumps(found)
        if credit is not None:
            values["attribution_json"] = json.dumps(credit)
        if route is not None:
            values["route"] = route
        if state == PromotionState.PROMOTED:
            values["decided_by"], values["decided_at"] = "auto", time.time()
        with self._one_champion(generation), self.writer.begin() as c:
            row = self._open_case(c, study_id, number, ("gathering",))
            c.execute(update(t.promotions).where(t.promotions.c.id == row.id).values(**values))
            number_of_trial = self._trial_number(c, row.trial_id)
            payload = {"promotion": number, "state": state.value, "route": route, "evidence": found}
            append_event(c, study_id, "promotion", number_of_trial, {**payload, "attribution": credit})
            if generation is not None:
                insert_generation(c, study_id, row.trial_id, number_of_trial, generation)

    def decide_promotion(
        self,
        study_id: int,
        number: int,
        decision: str,
        by: str,
        comment: str | None,
        generation: NewGeneration | None = None,
    ) -> None:
        """A person's final word on a pending promotion: ``approved`` (with the generation it founds) or
        ``rejected``. Deciding anything but a pending case is an error and changes nothing."""
        if decision not in DECISIONS:
            raise ValueError(f"decision: expected one of {DECISIONS}, got {decision!r}")
        if not by.strip():
            raise StorageError("a decision needs the reviewer's name (--by NAME)")
        with self._one_champion(generation), self.writer.begin() as c:
            row = self._open_case(c, study_id, number, ("pending",))
            done = c.execute(
                update(t.promotions)
                .where(t.promotions.c.id == row.id, t.promotions.c.state == "pending")
                .values(state=decision, decided_by=by, decided_at=time.time(), comment=comment)
            )
            if done.rowcount != 1:
                raise StorageError(f"promotion {number} was decided by someone else just now")
            trial_number = self._trial_number(c, row.trial_id)
            payload = {"promotion": number, "by": by, "comment": comment}
            append_event(c, study_id, decision, trial_number, payload)
            if generation is not None:
                insert_generation(c, study_id, row.trial_id, trial_number, generation)

    def promotions(self, study_id: int) -> list[PromotionRecord]:
        query = (
            select(t.promotions, t.trials.c.number.label("trial_number"))
            .join(t.trials, t.trials.c.id == t.promotions.c.trial_id)
            .where(t.promotions.c.study_id == study_id)
            .order_by(t.promotions.c.number)
        )
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        return [
            PromotionRecord(
                r.number,
                r.trial_number,
                r.champion_generation,
                PromotionState(r.state),
                r.route,
                Evidence.from_dict(json.loads(r.evidence_json)) if r.evidence_json else None,
                Attribution.from_dict(json.loads(r.attribution_json)) if r.attribution_json else None,
                r.decided_by,
                r.decided_at,
                r.comment,
                r.created_at,
            )
            for r in rows
        ]

    def add_replicate(self, study_id: int, design: Design, seed: int, replicate: Replicate) -> None:
        """Record one evidence retraining of ``design`` on ``seed`` (and its ``replicate`` event)."""
        try:
            with self.writer.begin() as c:
                insert_design(c, design)
                c.execute(
                    insert(t.replicates).values(
                        study_id=study_id,
                        design_hash=design.hash,
                        seed=seed,
                        metrics_json=json.dumps(replicate.metrics) if replicate.metrics is not None else None,
                        error=replicate.error,
                        info_json=json.dumps(replicate.info),
                        started_at=replicate.started_at,
                        finished_at=replicate.finished_at,
                    )
                )
                payload = {"design": design.hash, "seed": seed, "metrics": replicate.metrics, "error": replicate.error}
                append_event(c, study_id, "replicate", None, payload)
        except IntegrityError:
            raise StorageError(f"design {design.hash} was already retrained on seed {seed}") from None

    def replicates(self, study_id: int) -> list[Replicate]:
        query = select(t.replicates).where(t.replicates.c.study_id == study_id).order_by(t.replicates.c.id)
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        return [
            Replicate(
                r.design_hash,
                r.seed,
                json.loads(r.metrics_json) if r.metrics_json else None,
                r.error,
                json.loads(r.info_json) if r.info_json else {},
                r.started_at,
                r.finished_at,
            )
            for r in rows
        ]

    @staticmethod
    @contextmanager
    def _one_champion(generation: NewGeneration | None) -> Iterator[None]:
        """A generation number is founded once: a second writer claiming it gets one line, and nothing is written."""
        try:
            yield
        except IntegrityError:
            taken = f"generation {generation.number}" if generation else "this promotion"
            raise StorageError(f"{taken} is already recorded; is another coordinator running?") from None

    @staticmethod
    def _open_case(c: Any, study_id: int, number: int, states: tuple[str, ...]) -> Any:
        row = c.execute(
            select(t.promotions).where(t.promotions.c.study_id == study_id, t.promotions.c.number == number)
        ).first()
        if row is None:
            raise StorageError(f"promotion {number} does not exist in this study")
        if row.state not in states:
            decided = f" by {row.decided_by}" if row.decided_by else ""
            raise StorageError(f"promotion {number} is not {' or '.join(states)}: it is {row.state}{decided}")
        return row

    @staticmethod
    def _trial_number(c: Any, tid: int) -> int:
        return int(c.execute(select(t.trials.c.number).where(t.trials.c.id == tid)).scalar_one())
