"""The audit chain's arithmetic: what an event's hash covers. Kept apart from the store so a verifier can recompute
it from rows alone."""

from __future__ import annotations

import hashlib
import json

GENESIS = "0" * 64  # the "previous hash" of a study's first event


def event_hash(
    study_id: int, seq: int, prev_hash: str, ts: float, kind: str, trial_number: int | None, payload_json: str
) -> str:
    """SHA-256 over every column of the event and the previous event's hash: changing any of them, or the order of
    events, changes the hash of this event and every event after it."""
    fields = [study_id, seq, prev_hash, repr(float(ts)), kind, trial_number, payload_json]
    return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()
