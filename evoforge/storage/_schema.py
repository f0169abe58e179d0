"""Tables of the store. Every change of a study is a row here; nothing about a study lives anywhere else."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

studies = Table(
    "studies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("goal_json", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

designs = Table(
    "designs",
    metadata,
    Column("hash", String(32), primary_key=True),
    Column("space", String(64), nullable=False),
    Column("genes_json", Text, nullable=False),
)

trials = Table(
    "trials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", ForeignKey("studies.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("design_hash", ForeignKey("designs.hash"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("proposer", String(64), nullable=False),
    Column("operator", String(64), nullable=True),
    Column("rationale", Text, nullable=False),
    Column("seed", BigInteger, nullable=False),  # 32-bit unsigned seeds do not fit a PostgreSQL integer
    Column("metrics_json", Text, nullable=True),
    Column("info_json", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    UniqueConstraint("study_id", "number"),
    Index("ix_trials_study_state", "study_id", "state"),
)

# A worker's result, written by the worker itself before it hands the result back: a coordinator that dies before
# recording it finds it here on resume instead of training the trial again. ``data`` (the result as JSON and raw
# bytes, ``evoforge._codec``: never pickled) is cleared once the trial's outcome is recorded; the row stays as the
# receipt that this attempt ran to completion.
results = Table(
    "results",
    metadata,
    Column("trial_id", ForeignKey("trials.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("piece", Integer, primary_key=True),  # the epoch the work started from (0: from scratch)
    Column("data", LargeBinary, nullable=True),
    Column("created_at", Float, nullable=False),
)

lineage = Table(
    "lineage",
    metadata,
    Column("child_id", ForeignKey("trials.id"), primary_key=True),
    Column("parent_id", ForeignKey("trials.id"), primary_key=True),
)

generations = Table(
    "generations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", ForeignKey("studies.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("trial_id", ForeignKey("trials.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("held_out", Float, nullable=True),  # the judged metric on the held-out split, mean of the evidence
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("study_id", "number"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", ForeignKey("studies.id"), nullable=False, index=True),
    Column("ts", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("trial_number", Integer, nullable=True),
    Column("payload_json", Text, nullable=False),
    # The audit chain: each event of a study has the next sequence number and stores the hash of the one before, so
    # an edited, deleted, inserted or reordered event breaks the chain (see evoforge.oversight.verify_chain).
    Column("seq", Integer, nullable=True),
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
    Index("ux_events_study_seq", "study_id", "seq", unique=True),
)

promotions = Table(  # a challenger's case for replacing the champion: its evidence, attribution and the decision
    "promotions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", ForeignKey("studies.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("trial_id", ForeignKey("trials.id"), nullable=False),  # the challenger
    Column("champion_generation", Integer, nullable=True),  # the generation it would replace (None: founding)
    Column("state", String(16), nullable=False),
    Column("route", String(8), nullable=True),  # auto | human: who decides once the evidence passes
    Column("evidence_json", Text, nullable=True),
    Column("attribution_json", Text, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", Float, nullable=True),
    Column("comment", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("study_id", "number"),
    UniqueConstraint("study_id", "trial_id"),
)

replicates = Table(  # a design retrained on one of the study's evidence seeds and measured on the held-out split
    "replicates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", ForeignKey("studies.id"), nullable=False),
    Column("design_hash", ForeignKey("designs.hash"), nullable=False),
    Column("seed", BigInteger, nullable=False),  # 32-bit unsigned seeds do not fit a PostgreSQL integer
    Column("metrics_json", Text, nullable=True),
    Column("error", Text, nullable=True),
    Column("info_json", Text, nullable=True),
    Column("started_at", Float, nullable=True),
    Column("finished_at", Float, nullable=True),
    UniqueConstraint("study_id", "design_hash", "seed"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("trial_id", ForeignKey("trials.id"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

checkpoints = Table(  # where a paused trial goes on from (multi-fidelity); removed when the trial finishes
    "checkpoints",
    metadata,
    Column("trial_id", ForeignKey("trials.id"), primary_key=True),
    Column("epoch", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("study_id", ForeignKey("studies.id"), primary_key=True),
    Column("owner", String(200), nullable=False),  # host:pid of the coordinator running the study
    Column("heartbeat", Float, nullable=False),
)
