"""Riding out a store that is briefly unreachable (a database server restarting, a network blip): every store
call is one transaction, so a call that failed because the connection did is run again, with backoff, for up to
``EVOFORGE_STORE_RETRY_S`` seconds (60 by default); past that it raises ``StoreUnavailable`` naming the store and the
last error, and the caller stops cleanly instead of waiting forever."""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from evoforge._errors import StorageError

RETRY_ENV = "EVOFORGE_STORE_RETRY_S"
DEFAULT_RETRY_S = 60.0
FIRST_DELAY_S, MAX_DELAY_S = 0.25, 5.0
# SQLSTATEs of a lost or refused connection (class 08), a server shutting down or starting (57P01-57P03), and
# transactions the server asks to be run again (serialization failure, deadlock).
_RETRY_STATES = ("57P01", "57P02", "57P03", "40001", "40P01")
_SQLITE_TRANSIENT = ("database is locked", "disk i/o error", "unable to open database file")

log = logging.getLogger("evoforge.storage")
F = TypeVar("F", bound=Callable[..., Any])


class StoreUnavailable(StorageError):
    """The store could not be reached for the whole retry window."""


def retry_window() -> float:
    raw = os.environ.get(RETRY_ENV)
    if raw is None:
        return DEFAULT_RETRY_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        raise StorageError(f"{RETRY_ENV}: expected seconds (0 or more), got {raw!r}")
    return value


def transient(exc: DBAPIError) -> bool:
    """Whether ``exc`` says the store could not be reached (worth trying again), not that the call was wrong."""
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None)
    if state:
        return str(state).startswith("08") or state in _RETRY_STATES
    if not isinstance(exc, OperationalError):
        return False
    if "sqlite" in type(exc.orig).__module__:
        return any(s in str(exc.orig).lower() for s in _SQLITE_TRANSIENT)
    return True  # a server driver's OperationalError without a SQLSTATE: the connection itself failed


def retrying(fn: F) -> F:
    """``fn`` (a method of the store, one transaction) run again while the store is unreachable; see the module."""

    @functools.wraps(fn)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline, delay = None, FIRST_DELAY_S
        while True:
            try:
                return fn(self, *args, **kwargs)
            except DBAPIError as exc:
                if not transient(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.retry_s
                    log.warning("store unreachable (%s); retrying for %g s", _first_line(exc), self.retry_s)
                if now >= deadline:
                    where = make_url(self.url).render_as_string(hide_password=True)
                    raise StoreUnavailable(
                        f"the store {where} was unreachable for {self.retry_s:g} s ({_first_line(exc)}); "
                        "stopped cleanly: run the same command again to resume"
                    ) from None
                time.sleep(min(delay, deadline - now))
                delay = min(delay * 2, MAX_DELAY_S)

    return call  # type: ignore[return-value]


def _first_line(exc: DBAPIError) -> str:
    text = str(exc.orig).strip().splitlines()
    return text[0][:200] if text else type(exc.orig).__name__
