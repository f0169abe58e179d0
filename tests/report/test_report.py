from __future__ import annotations

import base64
import sqlite3
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from evoforge import Store
from evoforge._errors import EvoforgeError
from evoforge.cli import main
from evoforge.goal import goal_from_dict
from evoforge.report import write_report
from evoforge.storage import StudyRecord
from evoforge.study import run_study
from evoforge.study._review import decide
from tests.conftest import nb201_goal

PNG = b"\x89PNG\r\n\x1a\n"


def _study(storage: str, **extra: Any) -> tuple[Store, StudyRecord]:
    run_study(goal_from_dict(nb201_goal("nb", 30, **extra)), storage, workers=0)
    store = Store(storage)
    study = store.get_study("nb")
    assert study is not None
    return store, study


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def test_html_embeds_one_png_per_plot_and_loads_nothing_from_outside(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage)
    write_report(store, study, tmp_path / "out")
    tags = _tags((tmp_path / "out" / "report.html").read_text())
    images = [attrs["src"] or "" for tag, attrs in tags if tag == "img"]
    assert len(images) == 3  # best over trials, best over time, lineage (no Pareto front: one objective)
    for src in images:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data).startswith(PNG)
    assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object")]
    linked = [v for _, attrs in tags for k, v in attrs.items() if k in ("src", "href")]
    assert all(v and v.startswith("data:") for v in linked)


def test_png_files_are_written_next_to_the_reports(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage)
    paths = write_report(store, study, tmp_path / "out")
    assert [p.name for p in paths[:2]] == ["report.html", "report.md"]
    images = {p.name for p in paths if p.suffix == ".png"}
    assert images == {"best_over_trials.png", "best_over_time.png", "lineage.png"}
    assert all(p.read_bytes().startswith(PNG) and p.stat().st_size > 1000 for p in paths if p.suffix == ".png")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in paths)


def test_markdown_mentions_every_generation_and_every_promotion(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage)
    write_report(store, study, tmp_path / "out")
    md = (tmp_path / "out" / "report.md").read_text()
    generations, cases = store.generations(study.id), store.promotions(study.id)
    assert len(generations) >= 2 and len(cases) >= 2
    for g in generations:
        assert f"| {g.number} | #{g.trial_number} | {g.design.hash} |" in md
        assert f"Gen {g.number} (trial #{g.trial_number})" in md
    for c in cases:
        assert f"### Promotion {c.number}: trial #{c.trial_number} - {c.state}" in md
    for name in ("best_over_trials.png", "best_over_time.png", "lineage.png"):
        assert f"]({name})" in md


def test_two_objectives_get_a_pareto_front_plot(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage, objectives={"val_accuracy": "max", "params": "min"})
    paths = write_report(store, study, tmp_path / "out")
    assert (tmp_path / "out" / "pareto_front.png").read_bytes().startswith(PNG)
    assert tmp_path / "out" / "pareto_front.png" in paths
    assert "](pareto_front.png)" in (tmp_path / "out" / "report.md").read_text()
    html = (tmp_path / "out" / "report.html").read_text()
    assert [a["alt"] for t, a in _tags(html) if t == "img"].count("Pareto front") == 1


def test_one_objective_says_there_is_no_pareto_front(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage)
    paths = write_report(store, study, tmp_path / "out")
    assert not (tmp_path / "out" / "pareto_front.png").exists() and len(paths) == 5
    for name in ("report.md", "report.html"):
        assert (
            "No Pareto front plot: the goal has a single objective (val_accuracy)."
            in (tmp_path / "out" / name).read_text()
        )


def test_audit_chain_reads_intact_then_broken_after_an_event_is_edited(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage)
    write_report(store, study, tmp_path / "before")
    events = len(store.events(study.id))
    assert f"Intact: {events} events" in (tmp_path / "before" / "report.md").read_text()
    con = sqlite3.connect(storage.removeprefix("sqlite:///"))
    with con:
        con.execute("UPDATE events SET payload_json = '{}' WHERE id = (SELECT MAX(id) FROM events)")
    con.close()
    write_report(store, study, tmp_path / "after")
    for name in ("report.md", "report.html"):
        text = (tmp_path / "after" / name).read_text()
        assert "BROKEN: event" in text and "hash mismatch" in text and "Intact" not in text


def test_text_from_the_store_is_escaped_in_the_html(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage, oversight={"promotion": "human"})
    pending = next(c for c in store.promotions(study.id) if c.state == "pending")
    decide(store, study, pending.number, "rejected", "<b>ana</b>", "<script>alert(1)</script>")
    write_report(store, study, tmp_path / "out")
    html = (tmp_path / "out" / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;ana&lt;/b&gt;" in html
    assert not [t for t, _ in _tags(html) if t in ("script", "b")]


def test_an_out_path_that_is_a_file_is_refused_and_nothing_is_written(storage: str, tmp_path: Path) -> None:
    store, study = _study(storage)
    (tmp_path / "taken").write_text("keep me")
    before = sorted(tmp_path.iterdir())
    with pytest.raises(EvoforgeError, match="exists and is not a folder"):
        write_report(store, study, tmp_path / "taken")
    assert sorted(tmp_path.iterdir()) == before and (tmp_path / "taken").read_text() == "keep me"


def test_without_matplotlib_the_report_says_what_to_install_and_writes_nothing(
    storage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, study = _study(storage)
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)  # None in sys.modules makes the import fail
    with pytest.raises(EvoforgeError, match=r"pip install 'evoforge\[report\]'"):
        write_report(store, study, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_report_command_prints_each_file_it_wrote(
    storage: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _study(storage)
    assert main(["report", "--storage", storage, "--out", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [f"wrote {tmp_path / 'out' / 'report.html'}", f"wrote {tmp_path / 'out' / 'report.md'}"]
    assert all(Path(line.removeprefix("wrote ")).is_file() for line in lines)
