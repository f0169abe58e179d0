from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


class Progress:
    """Trials done of the budget, best so far, generation, ETA. Silent when quiet.

    On a terminal it is one line redrawn in place; into a file or a CI log it writes a plain line every 10 s, so
    logs stay readable.
    """

    def __init__(self, total: int, done: int = 0, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.total, self.start_done, self.quiet = total, done, quiet
        self.stream = stream or sys.stderr or open(os.devnull, "w")  # noqa: SIM115 - lives as long as this
        self.tty = not quiet and bool(getattr(self.stream, "isatty", lambda: False)())
        self.every_s = 0.2 if self.tty else 10.0
        self.started = time.monotonic()
        self._last = 0.0

    def update(self, done: int, running: int, best: float | None, generation: int | None, force: bool = False) -> None:
        now = time.monotonic()
        if self.quiet or (not force and now - self._last < self.every_s):
            return
        self._last = now
        elapsed = now - self.started
        fresh = done - self.start_done
        eta = _clock(elapsed / fresh * (self.total - done)) if fresh > 0 and done < self.total else "--:--"
        width = 24
        filled = int(width * min(done, self.total) / max(self.total, 1))
        best_text = f"{best:.4f}" if best is not None else "-"
        gen_text = f"gen {generation}" if generation is not None else "no champion"
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} trials, {running} running | "
            f"best {best_text} | {gen_text} | {_clock(elapsed)} elapsed, ETA {eta}"
        )
        self.stream.write(f"\r{line.ljust(100)}" if self.tty else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.quiet and self.tty:
            self.stream.write("\n")
            self.stream.flush()
