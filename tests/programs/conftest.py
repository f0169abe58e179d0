from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from evoforge.programs import Program, compile_program
from evoforge.tasks._program_runner import load_candidate


@pytest.fixture
def load(tmp_path: Path) -> Callable[[Program], ModuleType]:
    """Compile a program to a file and import it, as a user would."""
    count = iter(range(10_000))

    def _load(program: Program) -> ModuleType:
        path = tmp_path / f"evolved_{next(count)}.py"
        path.write_text(compile_program(program))
        return load_candidate(path)

    return _load
