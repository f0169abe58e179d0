"""Oversight: evidence behind every promotion (paired tests on retrained seeds), attribution of a challenger's
changes, and verification of the audit chain."""

from evoforge.oversight._attribution import AttributionPlan, attribute, plan_attribution
from evoforge.oversight._audit import ChainStatus, require_intact, verify_chain
from evoforge.oversight._changes import Change, apply, changes, revert
from evoforge.oversight._evidence import mean_ci, pack_samples, paired_bootstrap, paired_test, unpack_samples

__all__ = [
    "AttributionPlan",
    "Change",
    "ChainStatus",
    "apply",
    "attribute",
    "changes",
    "mean_ci",
    "pack_samples",
    "paired_bootstrap",
    "paired_test",
    "plan_attribution",
    "require_intact",
    "revert",
    "unpack_samples",
    "verify_chain",
]
