"""Named search profiles: a proposer and its settings, shipped (``default``) or found by ``evoforge meta``."""

from evoforge.profiles._profiles import (
    ENV,
    Profile,
    builtin_dir,
    load_profile,
    profile_names,
    proposer_settings,
    resolve,
    save_profile,
    user_dir,
)

__all__ = [
    "ENV",
    "Profile",
    "builtin_dir",
    "load_profile",
    "profile_names",
    "proposer_settings",
    "resolve",
    "save_profile",
    "user_dir",
]
