from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from evoforge import _codec
from evoforge._errors import StorageError
from evoforge.design import Design
from evoforge.storage import _schema as t
from evoforge.storage._engine import open_engine, writer_engine
from evoforge.storage._promotions import PromotionRows
from evoforge.storage._records import (
    FINISHED_STATES,
    EventRecord,
    GenerationRecord,
    StudyRecord,
    TrialRecord,
    TrialState,
)
from evoforge.storage._retry import retry_window, retrying
from evoforge.storage._sql import append_event, insert_design, trial_id


class Store(PromotionRows):
    """The single source of truth of every study. It records and answers; it never decides.

    Contract: each write is one transaction, so a process killed at any moment leaves either the whole change or
    none of it. Records handed out are immutable values. A call that fails because the store cannot be reached is
    run again with backoff for ``retry_s`` seconds (``EVOFORGE_STORE_RETRY_S``, 60 by default), then raises
    ``StoreUnavailable``.
    """

    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.retry_s = retry_window()
        self.engine = open_engine(url, create)
        self.writer = writer_engine(self.engine)

    # -- studies ---------------------------------------------------------------------------------------------------
    def create_study(self, name: str, goal_json: str) -> StudyRecord:
        now = time.time()
        try:
            with self.writer.begin() as c:
                sid = c.execute(
                    insert(t.studies).values(name=name, goal_json=goal_json, created_at=now)
                ).inserted_primary_key[0]  # type: ignore[index]  # noqa: E501
                append_event(c, sid, "study_created", None, {"name": name})
        except IntegrityError:
            raise StorageError(f"study {name!r} already exists") from None
        return StudyRecord(sid, name, goal_json, now)

    def get_study(self, name: str) -> StudyRecord | None:
        with self.engine.connect() as c:
            row = c.execute(select(t.studies).where(t.studies.c.name == name)).first()
        return StudyRecord(row.id, row.name, row.goal_json, row.created_at) if row else None

    def studies(self) -> list[StudyRecord]:
        with self.engine.connect() as c:
            rows = c.execute(select(t.studies).order_by(t.studies.c.id)).all()
        return [StudyRecord(r.id, r.name, r.goal_json, r.created_at) for r in rows]

    def update_goal(self, study_id: int, goal_json: str, changes: Sequence[str]) -> None:
        with self.writer.begin() as c:
            c.execute(update(t.studies).where(t.studies.c.id == study_id).values(goal_json=goal_json))
            append_event(c, study_id, "goal_changed", None, {"changes": list(changes)})

    # -- trials ----------------------------------------------------------------------------------------------------
    def add_trial(
        self,
        study_id: int,
        number: int,
        design: Design,
        *,
        proposer: str,
        operator: str | None,
        rationale: str,
        parents: Sequence[int],
        seed: int,
        state: TrialState | str = TrialState.WAITING,
        error: str | None = None,
        metrics: dict[str, float] | None = None,
        info: dict[str, Any] | None = None,
    ) -> TrialRecord:
        """Record a proposal (with its design and lineage edges to the parent trial numbers); ``info`` is what the
        proposer noted about it (its prediction, its route), kept in the ``proposed`` event."""
        state = TrialState(state)
        now = time.time()
        with self._writing(f"trial {number} already exists in this study; is another coordinator running it?") as c:
            insert_design(c, design)
            tid = c.execute(
                insert(t.trials).values(
                    study_id=study_id,
                    number=number,
                    design_hash=design.hash,
                    state=state.value,
                    proposer=proposer,
                    operator=operator,
                    rationale=rationale,
                    seed=seed,
                    error=error,
                    created_at=now,
                    metrics_json=json.dumps(metrics) if metrics else None,
                    finished_at=now if state in FINISHED_STATES else None,
                    started_at=now if state == "running" else None,
                    attempts=1 if state == "running" else 0,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            if parents:
                ids = (
                    c.execute(
                        select(t.trials.c.id).where(t.trials.c.study_id == study_id, t.trials.c.number.in_(parents))
                    )
                    .scalars()
                    .all()
                )
                c.execute(insert(t.lineage), [{"child_id": tid, "parent_id": p} for p in ids])
            append_event(
                c,
                study_id,
                "proposed",
                number,
                {
                    "design": design.hash,
                    "seed": seed,
                    "operator": operator,
                    "parents": list(parents),
                    "rationale": rationale,
                    **({"info": info} if info else {}),
                },
            )
            if state.finished:
                append_event(c, study_id, state.value, number, {"error": error})
        return TrialRecord(
            tid,
            number,
            TrialState(state),
            design,
            proposer,
            operator,
            rationale,
            seed,
            tuple(parents),
            metrics or {},
            {},
            error,
            1 if state == "running" else 0,
            now,
            now if state == "running" else None,
        )

    def mark_running(self, study_id: int, number: int) -> None:
        with self.writer.begin() as c:
            c.execute(
                update(t.trials)
                .where(t.trials.c.study_id == study_id, t.trials.c.number == number)
                .values(state="running", started_at=time.time(), attempts=t.trials.c.attempts + 1)
            )

    def finish_trial(
        self,
        study_id: int,
        number: int,
        state: TrialState | str,
        *,
        metrics: dict[str, float] | None = None,
        info: dict[str, Any] | None = None,
        error: str | None = None,
        artifact: bytes | None = None,
        started_at: float | None = None,
        finished_at: float | None = None,
        note: dict[str, Any] | None = None,
    ) -> None:
        """Record a trial's outcome in one transaction (a promotion comes later, through its case: see
        ``update_promotion`` and ``decide_promotion``).

        ``note`` adds study-level facts known at this moment (e.g. the front's hypervolume) to the trial's event.
        ``started_at`` / ``finished_at`` (epoch seconds) are when the work itself ran, as the worker saw it; without
        them the trial keeps the time it was handed out and finishes now.
        """
        state = TrialState(state)
        now = time.time()
        times = {"finished_at": finished_at or now}
        if started_at is not None:
            times["started_at"] = started_at
        with self._writing(f"the outcome of trial {number} is already recorded; is another coordinator running?") as c:
            tid = trial_id(c, study_id, number)
            done = c.execute(
                update(t.trials)
                .where(t.trials.c.id == tid, t.trials.c.state == "running")
                .values(
                    state=state.value,
                    **times,
                    error=error,
                    metrics_json=json.dumps(metrics) if metrics is not None else None,
                    info_json=json.dumps(info) if info is not None else None,
                )
            )
            if done.rowcount != 1:  # two coordinators, or a trial finished twice: refuse, record nothing
                raise StorageError(f"trial {number} is not running; its outcome was not recorded")
            append_event(c, study_id, state.value, number, {"metrics": metrics, "error": error, **(note or {})})
            if artifact is not None:
                c.execute(insert(t.artifacts).values(trial_id=tid, data=artifact))
            c.execute(delete(t.checkpoints).where(t.checkpoints.c.trial_id == tid))
            _consume_results(c, tid)

    def record_report(
        self, study_id: int, number: int, payload: dict[str, Any], checkpoint: tuple[int, bytes] | None
    ) -> None:
        """Record a running trial's result at a milestone and, when it goes on, the checkpoint (epoch, bytes) it goes
        on from, in one transaction: a resumed study continues it from there, under the decision already made."""
        with self.writer.begin() as c:
            tid = trial_id(c, study_id, number)
            append_event(c, study_id, "report", number, payload)
            c.execute(delete(t.checkpoints).where(t.checkpoints.c.trial_id == tid))
            _consume_results(c, tid)
            if checkpoint is not None:
                c.execute(insert(t.checkpoints).values(trial_id=tid, epoch=checkpoint[0], data=checkpoint[1]))

    def judge_report(
        self,
        study_id: int,
        number: int,
        epoch: int,
        payload: dict[str, Any],
        decide: Callable[[list[tuple[int, int, float]], int, float], bool],
    ) -> bool:
        """Record trial ``number``'s report at milestone ``epoch`` (``payload``, with its oriented ``value``) and
        the decision ``decide(earlier, epoch, value)`` makes from the study's earlier reports ((trial, epoch, value),
        read in the same write transaction, so two trials reaching a rung together are judged one after the other).
        A trial already judged at ``epoch`` (re-run after a crash) gets the decision recorded then; nothing is added.
        Returns whether the trial goes on."""
        query = (
            select(t.events.c.trial_number, t.events.c.payload_json)
            .where(t.events.c.study_id == study_id, t.events.c.kind == "report")
            .order_by(t.events.c.id)
        )
        with self.writer.begin() as c:
            earlier = []
            for n, text in c.execute(query).all():
                report = json.loads(text)
                if n == number and report["epoch"] == epoch:
                    return bool(report["continue"])
                earlier.append((int(n), int(report["epoch"]), float(report["value"])))
            go_on = bool(decide(earlier, epoch, float(payload["value"])))
            append_event(c, study_id, "report", number, {**payload, "epoch": epoch, "continue": go_on})
        return go_on

    def checkpoints(self, study_id: int) -> dict[int, tuple[int, bytes]]:
        """Trial number -> (epoch, checkpoint) of every trial paused at a milestone and not finished yet."""
        query = (
            select(t.trials.c.number, t.checkpoints.c.epoch, t.checkpoints.c.data)
            .join(t.trials, t.trials.c.id == t.checkpoints.c.trial_id)
            .where(t.trials.c.study_id == study_id)
        )
        with self.engine.connect() as c:
            return {int(n): (int(e), bytes(d)) for n, e, d in c.execute(query).all()}

    def requeue_inflight(self, study_id: int, keep: Iterable[int] = ()) -> list[TrialRecord]:
        """Put trials left ``running`` by a stopped coordinator back to ``waiting`` (except those in ``keep``: their
        results are spooled, see ``spooled``); returns all waiting trials."""
        kept = set(keep)
        with self.writer.begin() as c:
            running = (t.trials.c.study_id == study_id, t.trials.c.state == "running", t.trials.c.number.not_in(kept))
            stale = c.execute(select(t.trials.c.number).where(*running)).scalars().all()
            if stale:
                c.execute(update(t.trials).where(*running).values(state="waiting", started_at=None))
                append_event(c, study_id, "requeued", None, {"trials": list(stale)})
        return self.trials(study_id, states=("waiting",))

    # -- results spooled by workers --------------------------------------------------------------------------------
    def spool_result(self, study_id: int, number: int, attempt: int, piece: int, result: Any) -> None:
        """Keep a worker's result for attempt ``attempt`` of trial ``number`` (work that started from epoch ``piece``)
        before the worker hands it back, so the result outlives a coordinator that dies before recording it.
        ``result`` is JSON values and bytes (``evoforge._codec``); nothing in the store is pickled."""
        data = _codec.pack(result)
        with self._writing(f"trial {number}, attempt {attempt}, from epoch {piece} already has a result") as c:
            tid = trial_id(c, study_id, number)
            c.execute(
                insert(t.results).values(trial_id=tid, attempt=attempt, piece=piece, data=data, created_at=time.time())
            )

    def spooled(self, study_id: int, number: int | None = None) -> dict[int, tuple[int, Any]]:
        """Running trial number -> (piece, result) of every result a worker spooled for the trial's current attempt
        that no coordinator has recorded yet (of trial ``number`` only, if given)."""
        query = (
            select(t.trials.c.number, t.results.c.piece, t.results.c.data)
            .join(t.results, t.results.c.trial_id == t.trials.c.id)
            .where(
                t.trials.c.study_id == study_id,
                t.trials.c.state == "running",
                t.results.c.attempt == t.trials.c.attempts,
                t.results.c.data.is_not(None),
            )
        )
        if number is not None:
            query = query.where(t.trials.c.number == number)
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        out = {}
        for n, p, d in rows:
            with suppress(ValueError):  # a result that does not read back is not a result: its trial runs again
                out[int(n)] = (int(p), _codec.unpack(bytes(d)))
        return out

    def receipts(self, study_id: int) -> list[tuple[int, int, int]]:
        """(trial number, attempt, piece) of every result a worker spooled, recorded or not: the study's record of
        which work ran to completion."""
        query = (
            select(t.trials.c.number, t.results.c.attempt, t.results.c.piece)
            .join(t.results, t.results.c.trial_id == t.trials.c.id)
            .where(t.trials.c.study_id == study_id)
            .order_by(t.trials.c.number, t.results.c.attempt, t.results.c.piece)
        )
        with self.engine.connect() as c:
            return [(int(n), int(a), int(p)) for n, a, p in c.execute(query).all()]

    def requeue_trial(self, study_id: int, number: int, reason: str) -> None:
        """Put one running trial back to ``waiting`` (its worker died under it), saying why."""
        with self.writer.begin() as c:
            c.execute(
                update(t.trials)
                .where(t.trials.c.study_id == study_id, t.trials.c.number == number, t.trials.c.state == "running")
                .values(state="waiting", started_at=None)
            )
            append_event(c, study_id, "requeued", number, {"trials": [number], "reason": reason})

    def trials(
        self, study_id: int, states: Iterable[str] | None = None, numbers: Iterable[int] | None = None
    ) -> list[TrialRecord]:
        """The study's trials in number order (only those in ``states`` / with ``numbers``, if given)."""
        query = (
            select(t.trials, t.designs.c.space, t.designs.c.genes_json)
            .join(t.designs, t.designs.c.hash == t.trials.c.design_hash)
            .where(t.trials.c.study_id == study_id)
            .order_by(t.trials.c.number)
        )
        if states is not None:
            query = query.where(t.trials.c.state.in_(list(states)))
        if numbers is not None:
            query = query.where(t.trials.c.number.in_(list(numbers)))
        with self.engine.connect() as c:
            rows = c.execute(query).all()
            parents = self._parents(c, study_id)
        return [_trial(r, parents.get(r.id, ())) for r in rows]

    def count_trials(self, study_id: int) -> dict[str, int]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(t.trials.c.state, func.count()).where(t.trials.c.study_id == study_id).group_by(t.trials.c.state)
            ).all()
        return {state: n for state, n in rows}

    def finish_order(self, study_id: int) -> list[int]:
        """Trial numbers in the order their outcomes were recorded (the order a proposer was told them)."""
        query = (
            select(t.events.c.trial_number)
            .where(t.events.c.study_id == study_id, t.events.c.kind.in_(FINISHED_STATES))
            .order_by(t.events.c.id)
        )
        with self.engine.connect() as c:
            return [int(n) for n in c.execute(query).scalars()]

    # -- the run lease: at most one coordinator drives a study ----------------------------------------------------
    def acquire_lease(self, study_id: int, owner: str, stale: Callable[[str, float], bool]) -> str | None:
        """Take the study's lease for ``owner``; returns None, or the current holder when it is held and live.

        ``stale(holder, heartbeat)`` says whether another holder's lease may be taken over (its process is gone, or
        its heartbeat is too old). Atomic: of two coordinators racing for a free lease, exactly one gets it.
        """
        try:
            with self.writer.begin() as c:
                row = c.execute(select(t.leases).where(t.leases.c.study_id == study_id)).first()
                if row is not None and row.owner != owner and not stale(row.owner, row.heartbeat):
                    return str(row.owner)
                if row is not None:
                    # Delete exactly the lease we judged, so two coordinators taking over the same dead one cannot
                    # both succeed: the second deletes nothing and backs off.
                    gone = c.execute(
                        delete(t.leases).where(
                            t.leases.c.study_id == study_id,
                            t.leases.c.owner == row.owner,
                            t.leases.c.heartbeat == row.heartbeat,
                        )
                    )
                    if gone.rowcount != 1:
                        return "another coordinator"
                c.execute(insert(t.leases).values(study_id=study_id, owner=owner, heartbeat=time.time()))
                append_event(c, study_id, "lease_taken", None, {"owner": owner, "from": row.owner if row else None})
        except IntegrityError:
            return "another coordinator"
        return None

    def renew_lease(self, study_id: int, owner: str) -> bool:
        """Refresh the heartbeat; False if ``owner`` no longer holds the lease."""
        with self.writer.begin() as c:
            done = c.execute(
                update(t.leases)
                .where(t.leases.c.study_id == study_id, t.leases.c.owner == owner)
                .values(heartbeat=time.time())
            )
        return done.rowcount == 1

    def release_lease(self, study_id: int, owner: str) -> None:
        with self.writer.begin() as c:
            c.execute(delete(t.leases).where(t.leases.c.study_id == study_id, t.leases.c.owner == owner))

    # -- generations, events, artifacts ----------------------------------------------------------------------------
    def generations(self, study_id: int) -> list[GenerationRecord]:
        query = (
            select(
                t.generations,
                t.trials.c.number.label("trial_number"),
                t.designs.c.space,
                t.designs.c.genes_json,
            )
            .join(t.trials, t.trials.c.id == t.generations.c.trial_id)
            .join(t.designs, t.designs.c.hash == t.trials.c.design_hash)
            .where(t.generations.c.study_id == study_id)
            .order_by(t.generations.c.number)
        )
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        return [
            GenerationRecord(
                r.number,
                r.trial_number,
                Design.make(r.space, json.loads(r.genes_json)),
                r.score,
                r.held_out,
                r.reason,
                r.created_at,
            )
            for r in rows
        ]

    def events(self, study_id: int, kind: str | None = None) -> list[EventRecord]:
        query = select(t.events).where(t.events.c.study_id == study_id).order_by(t.events.c.id)
        if kind is not None:
            query = query.where(t.events.c.kind == kind)
        with self.engine.connect() as c:
            rows = c.execute(query).all()
        return [EventRecord(r.id, r.ts, r.kind, r.trial_number, json.loads(r.payload_json)) for r in rows]

    def log_event(self, study_id: int, kind: str, payload: dict[str, Any], trial_number: int | None = None) -> None:
        with self.writer.begin() as c:
            append_event(c, study_id, kind, trial_number, payload)

    def artifact(self, study_id: int, number: int) -> bytes | None:
        with self.engine.connect() as c:
            tid = trial_id(c, study_id, number)
            return c.execute(select(t.artifacts.c.data).where(t.artifacts.c.trial_id == tid)).scalar()

    # -- internals -------------------------------------------------------------------------------------------------
    @contextmanager
    def _writing(self, conflict: str) -> Iterator[Connection]:
        """One transaction; a uniqueness conflict (two writers claiming the same row) becomes a one-line error."""
        try:
            with self.writer.begin() as c:
                yield c
        except IntegrityError:
            raise StorageError(conflict) from None

    @staticmethod
    def _parents(c: Connection, study_id: int) -> dict[int, tuple[int, ...]]:
        parent = t.trials.alias("parent")
        rows = c.execute(
            select(t.lineage.c.child_id, parent.c.number)
            .join(parent, parent.c.id == t.lineage.c.parent_id)
            .where(parent.c.study_id == study_id)
        ).all()
        out: dict[int, list[int]] = {}
        for child, number in rows:
            out.setdefault(child, []).append(number)
        return {k: tuple(sorted(v)) for k, v in out.items()}


def _consume_results(c: Connection, tid: int) -> None:
    """The trial's spooled results are recorded now: drop their data, keep their receipts."""
    c.execute(update(t.results).where(t.results.c.trial_id == tid, t.results.c.data.is_not(None)).values(data=None))


def _trial(r: Any, parents: tuple[int, ...]) -> TrialRecord:
    return TrialRecord(
        r.id,
        r.number,
        TrialState(r.state),
        Design.make(r.space, json.loads(r.genes_json)),
        r.proposer,
        r.operator,
        r.rationale,
        r.seed,
        parents,
        json.loads(r.metrics_json) if r.metrics_json else {},
        json.loads(r.info_json) if r.info_json else {},
        r.error,
        r.attempts,
        r.created_at,
        r.started_at,
        r.finished_at,
    )


# Every public call of the store is one transaction: each is run again while the store is briefly unreachable.
for _cls in (Store, PromotionRows):
    for _name, _fn in list(vars(_cls).items()):
        if not _name.startswith("_") and callable(_fn):
            setattr(Store, _name, retrying(_fn))
