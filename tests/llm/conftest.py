from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.llm.server import ScriptedServer


@pytest.fixture
def llm_server() -> Iterator[ScriptedServer]:
    """A scripted OpenAI-compatible endpoint on a free port of 127.0.0.1, stopped after the test."""
    server = ScriptedServer().start()
    yield server
    server.stop()
