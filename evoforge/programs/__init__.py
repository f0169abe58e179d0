"""Programs: a small typed language of training algorithms (update rules, learning-rate schedules, losses), how
they change (mutation, crossover, simplification) and how they become readable Python (``compile_program``)."""

from evoforge.programs._compile import compile_program
from evoforge.programs._language import KINDS, PRIMITIVES, Instruction, Kind, Primitive, Program, check, render
from evoforge.programs._seeds import SEEDS, seed_program
from evoforge.programs._simplify import canonical, simplify
from evoforge.programs._variation import OPERATORS, crossover

__all__ = [
    "KINDS",
    "OPERATORS",
    "PRIMITIVES",
    "SEEDS",
    "Instruction",
    "Kind",
    "Primitive",
    "Program",
    "canonical",
    "check",
    "compile_program",
    "crossover",
    "render",
    "seed_program",
    "simplify",
]
