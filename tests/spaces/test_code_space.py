"""The code space: a program's EVOLVE blocks as genes, the rest frozen."""

from __future__ import annotations

import random

import pytest

from evoforge.design import Design
from evoforge.spaces import CodeSpace
from evoforge.spaces._code import split_source

PROGRAM = """import math

# EVOLVE-BLOCK-START
def score(x):
    return math.sqrt(x)
# EVOLVE-BLOCK-END

def main():
    # EVOLVE-BLOCK-START
    scale = 2
    # EVOLVE-BLOCK-END
    print(score(scale))
"""


def test_the_seed_design_renders_the_file_exactly() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    seed = space.sample(random.Random(0))
    assert seed == space.seed and space.render(seed) == PROGRAM
    assert seed.genes["regions"] == [["def score(x):", "    return math.sqrt(x)"], ["    scale = 2"]]


def test_a_changed_line_reads_as_one_line_in_the_design_diff() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    child = space.design_of(PROGRAM.replace("scale = 2", "scale = 3"))
    assert space.seed.diff(child) == ["regions[1][0]:     scale = 2 ->     scale = 3"]


def test_a_design_names_its_template_so_another_version_of_the_file_is_refused() -> None:
    old = CodeSpace(PROGRAM, "prog.py").seed
    edited = CodeSpace(PROGRAM.replace("import math", "import math, cmath"), "prog.py")
    with pytest.raises(ValueError, match="made for another version of prog.py"):
        edited.validate(old)


def test_an_edit_outside_the_blocks_is_refused_naming_the_line() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    with pytest.raises(ValueError, match=r"outside the EVOLVE blocks: after block 2, 'print\(score\(scale\)\)' became"):
        space.design_of(PROGRAM.replace("print(score(scale))", "print(99)"))
    with pytest.raises(ValueError, match="before the first block, 'import os' was added"):
        space.design_of("import math\nimport os" + PROGRAM.removeprefix("import math"))


def test_adding_or_removing_a_marker_is_refused() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    with pytest.raises(ValueError, match="adds or removes EVOLVE markers"):
        space.design_of(PROGRAM + "# EVOLVE-BLOCK-START\nx = 1\n# EVOLVE-BLOCK-END\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x = 1\n", "has no EVOLVE blocks"),
        ("# EVOLVE-BLOCK-START\nx = 1\n", "block opened at line 1 is never closed"),
        ("x = 1\n# EVOLVE-BLOCK-END\n", "line 2: # EVOLVE-BLOCK-END without a # EVOLVE-BLOCK-START"),
        ("# EVOLVE-BLOCK-START\n# EVOLVE-BLOCK-START\n", "line 2: # EVOLVE-BLOCK-START inside the block opened"),
    ],
)
def test_unbalanced_or_missing_markers_get_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        split_source(text, "prog.py")
    assert "\n" not in str(caught.value)


def test_validate_refuses_a_wrong_region_count_or_a_marker_inside_a_region() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    genes = space.seed.genes
    with pytest.raises(ValueError, match="has 2 EVOLVE blocks"):
        space.validate(Design.make("code", {**genes, "regions": genes["regions"][:1]}))
    genes["regions"][1].append("# EVOLVE-BLOCK-END")
    with pytest.raises(ValueError, match="regions\\[1\\]: holds an EVOLVE marker"):
        space.validate(Design.make("code", genes))


def test_the_space_has_no_random_operators() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    with pytest.raises(ValueError, match="proposer: llm"):
        space.mutate(space.seed, random.Random(0))
