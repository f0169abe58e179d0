from __future__ import annotations

import io

from evoforge.study._progress import Progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    out = FakeTerminal()
    progress = Progress(10, stream=out)
    progress.update(3, 2, 0.91234, 1, force=True)
    progress.update(10, 0, 0.95, 2, force=True)
    progress.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "10/10 trials, 0 running | best 0.9500 | gen 2" in text


def test_a_log_gets_plain_lines_and_quiet_gets_nothing() -> None:
    log = io.StringIO()
    progress = Progress(10, stream=log)
    progress.update(1, 1, None, None, force=True)
    progress.update(2, 1, None, None)  # within 10 s of the last line: skipped
    progress.close()
    assert log.getvalue().splitlines() == [log.getvalue().strip()] and "\r" not in log.getvalue()
    assert "1/10 trials, 1 running | best - | no champion" in log.getvalue()
    quiet = io.StringIO()
    Progress(10, quiet=True, stream=quiet).update(5, 0, 0.5, 0, force=True)
    assert quiet.getvalue() == ""
