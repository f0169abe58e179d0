"""Job functions for the executor tests; workers import them by name."""

from __future__ import annotations

import os
import time
from typing import Any


def double(x: int) -> int:
    return 2 * x


def pid(_: Any) -> int:
    return os.getpid()


def boom(message: str) -> None:
    raise RuntimeError(message)


def hang(seconds: float) -> None:
    time.sleep(seconds)


def crash(code: int) -> None:
    os._exit(code)
