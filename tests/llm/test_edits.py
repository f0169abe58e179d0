"""Search/replace edits: parsing a reply, applying it, refusing what cannot be applied or reaches outside."""

from __future__ import annotations

import pytest

from evoforge.llm import EditError, apply_edits, apply_reply, parse_edits, static_check, summary, unified_diff
from evoforge.spaces import CodeSpace
from tests.spaces.test_code_space import PROGRAM


def block(search: str, replace: str) -> str:
    return f"<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE"


def test_blocks_are_parsed_in_order_around_prose_and_fences() -> None:
    reply = f"Use a larger scale.\n```python\n{block('    scale = 2', '    scale = 4')}\n```\n{block('a', 'b')}\n"
    edits = parse_edits(reply)
    assert [(e.search, e.replace) for e in edits] == [(("    scale = 2",), ("    scale = 4",)), (("a",), ("b",))]
    assert summary(reply) == "Use a larger scale."


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I would raise the learning rate.", "has no <<<<<<< SEARCH"),
        ("<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE", "block opened on line 1 of the reply has no ======= line"),
        ("<<<<<<< SEARCH\nx = 1\n=======\ny = 2\n", "has no >>>>>>> REPLACE line"),
        (block("", "y = 2"), "block 1 has an empty SEARCH text"),
    ],
)
def test_a_malformed_reply_is_refused_with_one_line(reply: str, message: str) -> None:
    with pytest.raises(EditError, match=message):
        parse_edits(reply)


def test_edits_apply_line_for_line_ignoring_trailing_spaces() -> None:
    edits = parse_edits(block("    scale = 2   ", "    scale = 5\n    scale += 1"))
    out = apply_edits(PROGRAM, edits)
    assert "    scale = 5\n    scale += 1\n" in out and "scale = 2" not in out


def test_a_search_text_not_found_or_found_twice_is_refused() -> None:
    with pytest.raises(EditError, match="block 1: the SEARCH text is not in the program \\(it starts 'scale = 7'\\)"):
        apply_edits(PROGRAM, parse_edits(block("    scale = 7", "    scale = 8")))
    twice = "a = 1\nb = 2\na = 1\n"
    with pytest.raises(EditError, match="block 2: the SEARCH text occurs 2 times \\(it starts 'a = 1'\\); quote more"):
        apply_edits(twice, parse_edits(block("b = 2", "b = 3") + "\n" + block("a = 1", "a = 0")))


def test_an_edit_that_changes_nothing_is_refused() -> None:
    with pytest.raises(EditError, match="changes nothing"):
        apply_edits(PROGRAM, parse_edits(block("    scale = 2", "    scale = 2")))


def test_a_reply_is_applied_to_a_design_and_its_diff_is_unified() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    child = apply_reply(space, space.seed, block("    return math.sqrt(x)", "    return math.log1p(x)"))
    assert child.genes["regions"][0] == ["def score(x):", "    return math.log1p(x)"]
    diff = unified_diff(space, space.seed, child)
    assert diff.startswith("--- a/prog.py\n+++ b/prog.py\n@@")
    assert "-    return math.sqrt(x)\n+    return math.log1p(x)" in diff


def test_a_reply_that_reaches_outside_the_blocks_is_refused() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    with pytest.raises(EditError, match="changes code outside the EVOLVE blocks: before the first block"):
        apply_reply(space, space.seed, block("import math", "import math\nimport os"))
    # a SEARCH text that spans a marker is fine as long as only block lines change
    spanning = block("    scale = 2\n    # EVOLVE-BLOCK-END", "    scale = 9\n    # EVOLVE-BLOCK-END")
    assert apply_reply(space, space.seed, spanning).genes["regions"][1] == ["    scale = 9"]
    with pytest.raises(EditError, match="the edited prog.py: the EVOLVE block opened at line 9 is never closed"):
        apply_reply(space, space.seed, block("    scale = 2\n    # EVOLVE-BLOCK-END", "    scale = 2"))


def test_the_static_check_of_a_candidate_is_the_sandboxs() -> None:
    space = CodeSpace(PROGRAM, "prog.py")
    assert static_check(space, space.seed) is None
    bad = apply_reply(space, space.seed, block("    scale = 2", "    scale = open('x').read()"))
    found = static_check(space, bad)
    assert found is not None and found.startswith("line 10: ") and "'open'" in found
