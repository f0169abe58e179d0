"""Search spaces: what designs exist, how to sample them and the named operators that change them."""

from __future__ import annotations

from typing import Any

from evoforge.spaces._base import Mutation, Space
from evoforge.spaces._code import CodeSpace
from evoforge.spaces._input import InputSpec
from evoforge.spaces._macro import (
    DEPLOY_DEFAULTS,
    MacroOptions,
    MacroSpace,
    deploy_of,
    deployed_genes,
    inference_precision,
)
from evoforge.spaces._nb201 import NB201_OPS, NB201Space, arch_string
from evoforge.spaces._program import ProgramOptions, ProgramSpace

__all__ = [
    "CodeSpace",
    "DEPLOY_DEFAULTS",
    "NB201_OPS",
    "InputSpec",
    "MacroOptions",
    "MacroSpace",
    "Mutation",
    "NB201Space",
    "ProgramOptions",
    "ProgramSpace",
    "Space",
    "arch_string",
    "build_network",
    "deploy_of",
    "deployed_genes",
    "inference_precision",
    "network_specs",
]


def __getattr__(name: str) -> Any:
    # The network builder needs torch; load it only when a network is built, so `import evoforge` stays fast.
    if name in ("build_network", "network_specs"):
        from evoforge.spaces import _macro_build

        return getattr(_macro_build, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
