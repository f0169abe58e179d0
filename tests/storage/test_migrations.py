"""Schema migrations (Alembic): a new store starts at the head revision, an older one is brought there once, and
stores opened by several processes at the same moment are migrated once."""

from __future__ import annotations

import threading

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from evoforge import Store
from evoforge.oversight import verify_chain
from evoforge.storage._engine import MIGRATIONS


def _head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def _versions(url: str) -> list[str]:
    with create_engine(url).connect() as c:
        return [r[0] for r in c.execute(text("SELECT version_num FROM alembic_version"))]


def test_a_new_store_is_created_at_the_head_revision(storage: str) -> None:
    Store(storage)
    assert _versions(storage) == [_head()]


def test_a_store_from_before_migrations_is_upgraded_and_keeps_its_events(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("old", "{}")
    store.log_event(study.id, "note", {"n": 1})
    engine = create_engine(storage)
    with engine.begin() as c:  # what a store written before the audit chain and before migrations looked like
        c.execute(text("DROP TABLE alembic_version"))
        c.execute(text("DROP INDEX ux_events_study_seq"))
        for column in ("seq", "prev_hash", "hash"):
            c.execute(text(f"ALTER TABLE events DROP COLUMN {column}"))
        c.execute(text("DROP TABLE replicates"))
    upgraded = Store(storage)
    assert _versions(storage) == [_head()]
    assert {"seq", "hash"} <= {col["name"] for col in inspect(create_engine(storage)).get_columns("events")}
    assert inspect(create_engine(storage)).has_table("replicates")
    assert [e.kind for e in upgraded.events(study.id)][-1] == "note"
    assert verify_chain(upgraded, study).ok  # the events already there were chained


def test_stores_opened_at_the_same_moment_are_migrated_once(storage: str) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            Store(storage)
        except BaseException as exc:  # collected: a thread's exception would not fail the test
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _versions(storage) == [_head()]


def test_a_store_of_revision_0002_gets_held_out_scores_and_drops_what_was_pickled(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("old", "{}")
    engine = create_engine(storage)
    with engine.begin() as c:  # the store as revision 0002 left it
        c.execute(text("ALTER TABLE generations RENAME COLUMN held_out TO test_accuracy"))
        c.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        c.execute(text("INSERT INTO designs (hash, space, genes_json) VALUES ('d', 'x', '{}')"))
        c.execute(
            text(
                "INSERT INTO trials (study_id, number, design_hash, state, proposer, rationale, seed, attempts, "
                "created_at) VALUES (:s, 0, 'd', 'running', 'p', '', 1, 1, 0)"
            ),
            {"s": study.id},
        )
        c.execute(
            text(
                "INSERT INTO generations (study_id, number, trial_id, score, test_accuracy, reason, created_at) "
                "VALUES (:s, 0, 1, 0.9, 0.87, 'first', 0)"
            ),
            {"s": study.id},
        )
        pickled = b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94."
        c.execute(
            text("INSERT INTO results (trial_id, attempt, piece, data, created_at) VALUES (1, 1, 0, :d, 0)"),
            {"d": pickled},
        )
        c.execute(text("INSERT INTO checkpoints (trial_id, epoch, data) VALUES (1, 3, :d)"), {"d": b"PK\x03\x04torch"})
    migrated = Store(storage)
    assert _versions(storage) == [_head()]
    assert migrated.generations(study.id)[0].held_out == 0.87  # renamed, kept
    assert migrated.spooled(study.id) == {} and migrated.checkpoints(study.id) == {}  # never read: run again
