"""write_report: gather a study from the store, draw its figures, render HTML and Markdown, and write them all
into one folder, each through a temporary name, so a failure leaves no half-written file behind."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from evoforge._errors import EvoforgeError
from evoforge.report._document import Figure
from evoforge.report._facts import Facts, gather
from evoforge.report._html import render_html
from evoforge.report._lineage import lineage
from evoforge.report._markdown import render_markdown
from evoforge.report._pareto import pareto
from evoforge.report._plots import over_time, over_trials
from evoforge.report._sections import PARETO_FILE, document
from evoforge.storage import Store, StudyRecord

Draw = Callable[[Facts], bytes]
FIGURES: tuple[tuple[str, str, str, Draw], ...] = (
    (
        "best_over_trials.png",
        "Best result over trials",
        "Each dot is one trial's single result; the black line is the best single result so far. The dashed red "
        "line is the champion: it changes only when a challenger is promoted on evidence (stars, labelled with the "
        "generation). Red rings are promotion cases that did not promote (declined, rejected or still open).",
        over_trials,
    ),
    (
        "best_over_time.png",
        "Best result over time",
        "The same against wall-clock time since the study was created: trials where they finished, promotions and "
        "decided cases when they were decided, open cases when they were opened.",
        over_time,
    ),
    (
        PARETO_FILE,
        "Pareto front",
        "Every complete trial that meets the constraints, by the goal's first two objectives. Blue points are the "
        "front: no other trial is at least as good on every objective and better on one (with more than two "
        "objectives the front is over all of them, so a blue point may look dominated here). The star is the "
        "champion.",
        pareto,
    ),
    (
        "lineage.png",
        "Lineage",
        "Each box is a generation at its trial number and score. Red arrows lead from one generation to the next, "
        "labelled with the number of changes (lines of the design diff) between them; grey arrows are the parent "
        "-> child trials through which the search reached each champion.",
        lineage,
    ),
)


def write_report(store: Store, study: StudyRecord, out: str | os.PathLike[str]) -> list[Path]:
    """Write ``report.html`` (self-contained), ``report.md`` and the figures as PNG files into folder ``out``
    (created if needed; files of an earlier report there are replaced). Returns the paths written, HTML first."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise EvoforgeError(f"--out: {folder} exists and is not a folder")
    facts = gather(store, study)
    figures = [
        Figure(name, title, caption, draw(facts)) for name, title, caption, draw in FIGURES if _wanted(facts, name)
    ]
    blocks = document(facts, figures)
    files = {
        "report.html": render_html(f"evoforge report: study {study.name}", blocks).encode("utf-8"),
        "report.md": render_markdown(blocks).encode("utf-8"),
        **{f.file: f.png for f in figures},
    }
    return _write_all(folder, files)


def _wanted(facts: Facts, name: str) -> bool:
    return name != PARETO_FILE or len(facts.goal.objectives) > 1


def _write_all(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Every file goes to a temporary name first; only when all are written are they renamed into place."""
    blocked = [folder / name for name in files if (folder / name).is_dir()]
    if blocked:
        raise EvoforgeError(f"--out: {blocked[0]} is a folder where the report writes a file; move it or pick another")
    created = not folder.exists()
    temps: dict[str, str] = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            temps[name] = str(folder / f".{name}.{os.getpid()}.tmp")  # the pid: two reports written at once
            with open(temps[name], "wb") as f:
                f.write(data)
        for name, temp in temps.items():
            os.replace(temp, folder / name)
    except OSError as e:
        for temp in temps.values():
            with contextlib.suppress(OSError):
                os.unlink(temp)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise EvoforgeError(f"--out: cannot write the report into {folder}: {e.strerror or e}") from None
    return [folder / name for name in files]
