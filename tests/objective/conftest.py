from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of the user's own, outside every package, holding their objective (``user_obj.py``), on
    ``sys.path`` as a user's working directory would be."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(HERE / "user_objective.py", folder / "user_obj.py")
    monkeypatch.syspath_prepend(str(folder))
    return folder
