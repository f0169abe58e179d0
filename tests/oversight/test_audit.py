"""The audit chain catches edits, deletions, insertions and reorderings made directly in a real SQLite file."""

from __future__ import annotations

import sqlite3

import pytest

from evoforge import Store
from evoforge._errors import StorageError
from evoforge.cli import main
from evoforge.goal import goal_from_dict
from evoforge.oversight import verify_chain
from evoforge.study import run_study
from tests.conftest import nb201_goal, strip_audit_chain


@pytest.fixture
def study_db(storage: str) -> str:
    run_study(goal_from_dict(nb201_goal(trials=12)), storage, workers=0)
    return storage


def _sql(url: str, *statements: str) -> None:
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    with con:
        for statement in statements:
            con.execute(statement)
    con.close()


def _verify(url: str, head: str | None = None):  # type: ignore[no-untyped-def]
    store = Store(url)
    study = store.get_study("nb")
    assert study is not None
    return verify_chain(store, study, head)


def test_an_untouched_study_verifies_and_every_write_is_chained(study_db: str) -> None:
    status = _verify(study_db)
    kinds = {e.kind for e in Store(study_db).events(1)}
    assert status.ok and status.events > 40 and len(status.head) == 64
    assert {"study_created", "proposed", "complete", "challenge", "replicate", "promotion", "promoted"} <= kinds


def test_an_edited_event_is_named(study_db: str) -> None:
    _sql(study_db, "UPDATE events SET payload_json = replace(payload_json, '0.', '0.9') WHERE id = 20")
    status = _verify(study_db)
    assert not status.ok and status.bad_event == 20 and "contents were changed" in (status.problem or "")


def test_a_deleted_event_is_found_at_the_gap(study_db: str) -> None:
    _sql(study_db, "DELETE FROM events WHERE id = 15")
    status = _verify(study_db)
    assert not status.ok and status.bad_event == 16 and "were deleted" in (status.problem or "")


def test_a_swapped_pair_is_out_of_order(study_db: str) -> None:
    _sql(
        study_db,
        "UPDATE events SET id = -1 WHERE id = 10",
        "UPDATE events SET id = 10 WHERE id = 11",
        "UPDATE events SET id = 11 WHERE id = -1",
    )
    status = _verify(study_db)
    assert not status.ok and status.bad_event == 10 and "out of order" in (status.problem or "")


def test_an_inserted_copy_of_an_event_is_out_of_sequence(study_db: str) -> None:
    _sql(
        study_db,
        "INSERT INTO events (study_id, ts, kind, trial_number, payload_json, seq, prev_hash, hash) "
        "SELECT study_id, ts, kind, trial_number, payload_json, seq + 100000, prev_hash, hash FROM events WHERE id = 7",
    )
    status = _verify(study_db)
    assert not status.ok and "sequence jumps" in (status.problem or "")


def test_an_event_written_around_the_store_has_no_place_in_the_chain(study_db: str) -> None:
    _sql(study_db, "INSERT INTO events (study_id, ts, kind, payload_json) VALUES (1, 0, 'promoted', '{}')")
    status = _verify(study_db)
    assert not status.ok and "written around the store" in (status.problem or "")


def test_a_kept_head_catches_a_cut_off_tail(study_db: str) -> None:
    head = _verify(study_db).head
    _sql(study_db, "DELETE FROM events WHERE id = (SELECT max(id) FROM events)")
    assert _verify(study_db).ok  # a shorter chain is still a chain ...
    status = _verify(study_db, head)
    assert not status.ok and "kept head" in (status.problem or "")  # ... but not the one that was kept


def test_a_store_from_before_the_chain_is_chained_when_opened(study_db: str) -> None:
    before = len(Store(study_db).events(1))
    strip_audit_chain(study_db)
    status = _verify(study_db)
    assert status.ok and status.events == before


def test_audit_verify_on_the_command_line(study_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", "--storage", study_db]) == 0
    assert "intact" in capsys.readouterr().out
    _sql(study_db, "UPDATE events SET kind = 'tested' WHERE id = 5")
    assert main(["audit", "verify", "--storage", study_db]) == 1
    assert "BROKEN: event 5" in capsys.readouterr().out


def test_a_tampered_study_is_not_resumed(study_db: str) -> None:
    _sql(study_db, "DELETE FROM events WHERE id = 15")
    with pytest.raises(StorageError, match="audit record is broken: event 16"):
        run_study(goal_from_dict(nb201_goal(trials=20)), study_db, workers=0)
    assert len(Store(study_db).trials(1)) == 12


def test_a_trial_row_edited_behind_the_chain_is_caught(study_db: str) -> None:
    inflate = "replace(metrics_json, '\"val_accuracy\": 0.', '\"val_accuracy\": 0.99')"
    _sql(study_db, f"UPDATE trials SET metrics_json = {inflate} WHERE number = 3")
    status = _verify(study_db)
    assert not status.ok and (status.problem or "").startswith("trial 3: its metrics differ from its 'complete' event")


def test_a_generation_row_edited_behind_the_chain_is_caught(study_db: str) -> None:
    _sql(study_db, "UPDATE generations SET held_out = 0.99 WHERE number = 0")
    assert "generation 0: the table differs" in (_verify(study_db).problem or "")


def test_a_decision_edited_behind_the_chain_is_caught(study_db: str) -> None:
    _sql(study_db, "UPDATE promotions SET state = 'declined' WHERE number = 1")
    assert "promotion 1: the table says declined, the audit log promoted" in (_verify(study_db).problem or "")


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            "UPDATE replicates SET metrics_json = replace(metrics_json, '0.', '0.9') WHERE id = 1",
            "evidence retraining of",
        ),
        ("UPDATE generations SET score = 0.99 WHERE number = 1", "generation 1: the table differs"),
        ("UPDATE promotions SET decided_by = 'mallory' WHERE number = 2", "promotion 2: its by in the table differs"),
        ("DELETE FROM promotions WHERE number = 2", "a promotion case is in the promotions table or in the audit log"),
        ("UPDATE trials SET seed = 7 WHERE number = 4", "trial 4: its design or seed differs"),
        (
            "INSERT INTO trials (study_id, number, design_hash, state, proposer, rationale, seed, attempts, "
            "created_at) SELECT study_id, 99, design_hash, 'waiting', 'x', '', 1, 0, 0 FROM trials WHERE number = 0",
            "trial 99: in the trials table or in the audit log, not in both",
        ),
    ],
)
def test_rows_edited_added_or_deleted_behind_the_chain_are_caught(study_db: str, edit: str, problem: str) -> None:
    _sql(study_db, edit)
    status = _verify(study_db)
    assert not status.ok and problem in (status.problem or "")


def test_a_store_from_before_evidence_with_later_test_measurements_verifies(study_db: str) -> None:
    import json

    # Earlier versions promoted with no test accuracy and recorded it afterwards in a `tested` event.
    gone = "DELETE FROM events WHERE kind IN ('challenge', 'promotion', 'replicate')"
    _sql(study_db, "DELETE FROM promotions", "DELETE FROM replicates", gone)
    strip_audit_chain(study_db)
    con = sqlite3.connect(study_db.removeprefix("sqlite:///"))
    with con:
        for row_id, text in con.execute("SELECT id, payload_json FROM events WHERE kind = 'promoted'").fetchall():
            payload = json.loads(text)
            tested = {"generation": payload["generation"], "test_accuracy": payload["held_out"]}
            payload = {"generation": payload["generation"], "test_accuracy": None, "reason": payload["reason"]}
            con.execute("UPDATE events SET payload_json = ? WHERE id = ?", (json.dumps(payload), row_id))
            con.execute(
                "INSERT INTO events (study_id, ts, kind, payload_json) VALUES (1, 1e10, 'tested', ?)",
                (json.dumps(tested),),
            )
    con.close()
    assert _verify(study_db).ok
