"""Search spaces: what designs exist, how to sample them and the named operators that change them."""

from evoforge.spaces._base import Mutation, Space
from evoforge.spaces._macro import MacroOptions, MacroSpace
from evoforge.spaces._macro_build import InputSpec, build_network, network_specs
from evoforge.spaces._nb201 import NB201_OPS, NB201Space, arch_string

__all__ = [
    "NB201_OPS",
    "InputSpec",
    "MacroOptions",
    "MacroSpace",
    "Mutation",
    "NB201Space",
    "Space",
    "arch_string",
    "build_network",
    "network_specs",
]
