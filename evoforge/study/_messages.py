"""What the study's loop moves between its owners: the kinds of work it hands to an executor. An executor sees only
a ``Job`` (a function name and a payload of values); the loop keeps which work each job is, by the job's ticket."""

from __future__ import annotations

from dataclasses import dataclass

from evoforge.design import Design

TRIAL_FN = "evoforge.study._worker:run_trial"
RETRAIN_FN = "evoforge.study._worker:replicate"


@dataclass(frozen=True)
class TrialWork:
    """Trial ``number`` trained from where it stands (the trial book's checkpoint, or from scratch) to its next
    stop."""

    number: int


@dataclass(frozen=True)
class Retraining:
    """Evidence: ``design`` trained in full on evidence seed ``seed`` and measured on the held-out split. ``pieces``:
    how many pieces a trial of the design may be trained in under the study's scheduler; the retraining trains
    straight through them, so it gets the time caps of that many pieces."""

    design: Design
    seed: int
    pieces: int = 1


Work = TrialWork | Retraining
