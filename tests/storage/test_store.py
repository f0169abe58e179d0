from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from evoforge import StorageError
from evoforge.design import Design
from evoforge.storage import Evidence, NewGeneration, Store


def _design(i: int) -> Design:
    return Design.make("nb201", {"edges": [f"op{i}"] * 6})


def test_trials_round_trip_with_lineage_and_events(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    store.add_trial(study.id, 0, _design(0), proposer="random", operator=None, rationale="r0", parents=(), seed=1)
    store.add_trial(
        study.id, 1, _design(1), proposer="evolution", operator="swap", rationale="r1", parents=(0,), seed=2
    )
    store.mark_running(study.id, 1)
    store.finish_trial(study.id, 1, "complete", metrics={"val_accuracy": 0.5}, info={"device": "cpu"})
    trials = {t.number: t for t in Store(storage).trials(study.id)}  # a second connection sees everything
    assert trials[1].parents == (0,) and trials[1].operator == "swap" and trials[1].design == _design(1)
    assert trials[1].metrics == {"val_accuracy": 0.5} and trials[1].attempts == 1 and trials[1].state == "complete"
    assert trials[0].state == "waiting"
    kinds = [e.kind for e in store.events(study.id)]
    assert kinds == ["study_created", "proposed", "proposed", "complete"]


def _finished(store: Store, study_id: int, number: int) -> None:
    store.add_trial(
        study_id,
        number,
        _design(number),
        proposer="random",
        operator=None,
        rationale="",
        parents=(),
        seed=1,
        state="running",
    )
    store.finish_trial(study_id, number, "complete", metrics={"val_accuracy": 0.7}, artifact=b"weights")


def test_a_promotion_is_recorded_with_its_case_and_trial(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    _finished(store, study.id, 0)
    case = store.open_promotion(study.id, 0, None)
    evidence = Evidence((1, 2, 3), True, metric="val_loss", direction="min", mean_diff=0.1, ci=(0.05, 0.15))
    store.update_promotion(
        study.id, case.number, "promoted", evidence=evidence, generation=NewGeneration(0, 0.7, 0.69, "first")
    )
    (gen,) = store.generations(study.id)
    assert (gen.number, gen.trial_number, gen.held_out, gen.design) == (0, 0, 0.69, _design(0))
    assert store.artifact(study.id, 0) == b"weights"
    assert store.promotions(study.id)[0].evidence == evidence and store.promotions(study.id)[0].decided_by == "auto"
    assert store.events(study.id, "promotion")[0].payload["evidence"] == evidence.to_dict()
    assert store.events(study.id, "promoted")[0].payload["generation"] == 0


def test_a_failed_transaction_leaves_nothing_behind(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    for i in range(2):
        _finished(store, study.id, i)
        store.open_promotion(study.id, i, None)
    store.update_promotion(study.id, 1, "promoted", generation=NewGeneration(0, 0.7, None, "first"))
    before = len(store.events(study.id))
    with pytest.raises(StorageError, match="generation 0 is already recorded"):
        store.update_promotion(study.id, 2, "promoted", generation=NewGeneration(0, 0.8, None, "again"))
    assert store.promotions(study.id)[1].state == "gathering"  # the case's update was rolled back with it
    assert len(store.events(study.id)) == before


def test_a_trial_is_finished_once(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    store.add_trial(
        study.id, 0, _design(0), proposer="random", operator=None, rationale="", parents=(), seed=1, state="running"
    )
    store.finish_trial(study.id, 0, "complete", metrics={"val_accuracy": 0.5})
    with pytest.raises(StorageError, match="trial 0 is not running"):
        store.finish_trial(study.id, 0, "failed", error="again")
    assert store.trials(study.id)[0].metrics == {"val_accuracy": 0.5}
    assert [e.kind for e in store.events(study.id)].count("complete") == 1


def test_one_lease_holder_at_a_time(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    assert store.acquire_lease(study.id, "a", lambda holder, beat: False) is None
    assert store.acquire_lease(study.id, "b", lambda holder, beat: False) == "a"
    assert store.renew_lease(study.id, "a")
    assert store.acquire_lease(study.id, "b", lambda holder, beat: holder == "a") is None  # a is gone
    assert not store.renew_lease(study.id, "a")
    store.release_lease(study.id, "b")
    assert store.acquire_lease(study.id, "c", lambda holder, beat: False) is None


def test_read_only_opening_never_creates_or_alters_a_database(tmp_path: Path) -> None:
    import sqlite3

    with pytest.raises(StorageError, match="no store at"):
        Store(f"sqlite:///{tmp_path / 'none.db'}", create=False)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("create table notes (x int)").connection.commit()
    with pytest.raises(StorageError, match="is not an evoforge store"):
        Store(f"sqlite:///{other}", create=False)
    tables = {r[0] for r in sqlite3.connect(other).execute("select name from sqlite_master where type='table'")}
    assert tables == {"notes"}


def test_requeue_puts_running_trials_back(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    for i in range(3):
        store.add_trial(study.id, i, _design(i), proposer="random", operator=None, rationale="", parents=(), seed=i)
    store.mark_running(study.id, 0)
    store.mark_running(study.id, 1)
    store.finish_trial(study.id, 1, "complete", metrics={})
    assert store.finish_order(study.id) == [1]  # recorded order, not trial order: 1 finished before 0
    waiting = store.requeue_inflight(study.id)
    assert [t.number for t in waiting] == [0, 2]
    assert store.count_trials(study.id) == {"waiting": 2, "complete": 1}


def test_duplicate_study_names_are_refused(storage: str) -> None:
    store = Store(storage)
    store.create_study("s", "{}")
    with pytest.raises(StorageError, match="already exists"):
        store.create_study("s", "{}")


def test_bad_urls_get_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a database URL"):
        Store("not a url")
    with pytest.raises(StorageError, match="folder does not exist"):
        Store(f"sqlite:///{tmp_path}/missing/x.db")
    with pytest.raises(StorageError, match="cannot open"):
        Store("nosuchdialect://x")
    assert list(tmp_path.iterdir()) == []


def test_finish_order_is_the_order_outcomes_were_recorded(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    for i in range(3):
        store.add_trial(
            study.id, i, _design(i), proposer="random", operator=None, rationale="", parents=(), seed=i, state="running"
        )
    for i in (2, 0, 1):
        store.finish_trial(study.id, i, "complete", metrics={})
    assert store.finish_order(study.id) == [2, 0, 1]


def test_a_duplicate_trial_number_is_a_storage_error_not_a_traceback(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    store.add_trial(study.id, 0, _design(0), proposer="random", operator=None, rationale="", parents=(), seed=1)
    with pytest.raises(StorageError, match="trial 0 already exists"):
        store.add_trial(study.id, 0, _design(1), proposer="random", operator=None, rationale="", parents=(), seed=1)


def test_a_lease_judged_stale_is_taken_over_by_one_coordinator_only(storage: str) -> None:
    import threading

    store = Store(storage)
    study = store.create_study("s", "{}")
    assert store.acquire_lease(study.id, "dead", lambda holder, beat: False) is None
    barrier = threading.Barrier(2)
    results: dict[str, str | None] = {}

    def take_over(owner: str) -> None:
        mine = Store(storage)  # another process's view of the store: its own connections
        barrier.wait()
        results[owner] = mine.acquire_lease(study.id, owner, lambda holder, beat: holder == "dead")

    threads = [threading.Thread(target=take_over, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winner = next(owner for owner, holder in results.items() if holder is None)
    loser = "B" if winner == "A" else "A"
    assert results[loser] == winner  # the other found the winner's live lease and backed off
    assert store.renew_lease(study.id, winner) and not store.renew_lease(study.id, loser)


def test_a_report_keeps_the_checkpoint_a_paused_trial_goes_on_from_until_it_finishes(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    store.add_trial(study.id, 0, _design(0), proposer="random", operator=None, rationale="", parents=(), seed=1)
    store.mark_running(study.id, 0)
    store.record_report(study.id, 0, {"epoch": 1, "continue": True}, (1, b"after epoch 1"))
    store.record_report(study.id, 0, {"epoch": 3, "continue": True}, (3, b"after epoch 3"))
    assert Store(storage).checkpoints(study.id) == {0: (3, b"after epoch 3")}  # the latest one only
    assert [e.payload["epoch"] for e in store.events(study.id, "report")] == [1, 3]
    store.finish_trial(study.id, 0, "pruned", metrics={"val_accuracy": 0.2})
    assert store.checkpoints(study.id) == {}


def test_a_spooled_result_is_kept_as_json_and_bytes_never_pickled(storage: str) -> None:
    from evoforge._codec import MAGIC

    store = Store(storage)
    study = store.create_study("s", "{}")
    _finished(store, study.id, 0)
    store.add_trial(study.id, 1, _design(1), proposer="p", operator=None, rationale="", parents=(), seed=1)
    store.mark_running(study.id, 1)
    kept = {"value": {"metrics": {"val_loss": 0.5}, "artifact": b"\x00weights", "info": {}}, "started_at": 1.0}
    store.spool_result(study.id, 1, 1, 0, kept)
    with store.engine.connect() as c:
        (data,) = c.exec_driver_sql("SELECT data FROM results").one()
    assert bytes(data).startswith(MAGIC) and b"\x80\x04" not in bytes(data)[:2]  # the codec's blob, not a pickle
    assert store.spooled(study.id) == {1: (0, kept)}


def test_a_spooled_result_that_does_not_read_back_is_no_result(storage: str) -> None:
    store = Store(storage)
    study = store.create_study("s", "{}")
    store.add_trial(study.id, 0, _design(0), proposer="p", operator=None, rationale="", parents=(), seed=1)
    store.mark_running(study.id, 0)
    store.spool_result(study.id, 0, 1, 0, {"value": {}})
    with store.writer.begin() as c:  # what a hostile writer of the table might leave: a pickle
        c.execute(text("UPDATE results SET data = :d"), {"d": b"\x80\x04\x95cos\nsystem\n"})
    assert store.spooled(study.id) == {}  # ignored: its trial runs again


def test_a_new_sqlite_store_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    Store(f"sqlite:///{tmp_path / 'new.db'}")
    assert (tmp_path / "new.db").stat().st_mode & 0o777 == 0o600
    (tmp_path / "shared.db").touch(mode=0o664)
    (tmp_path / "shared.db").chmod(0o664)
    Store(f"sqlite:///{tmp_path / 'shared.db'}")  # an existing file keeps the mode its owner gave it
    assert (tmp_path / "shared.db").stat().st_mode & 0o777 == 0o664
