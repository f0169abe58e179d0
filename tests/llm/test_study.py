"""One real study: a user's program evolved by the language-model proposer against a scripted endpoint, every
candidate run in the sandbox, through the coordinator, the evidence gate, the CLI and the export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evoforge import Store
from evoforge.cli import main
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from tests.llm.server import ScriptedServer, reply
from tests.llm.test_edits import block
from tests.tasks.test_user_code import PROGRAM

SIX = "Predict the multiples of six: half of the multiples of three, and no false alarm.\n"
SIX += block("    return False", "    return x % 6 == 0")
SYSTEM = "Ask the operating system.\n" + block(
    "    return x % 6 == 0", "    import os\n    return x % 6 == 0 and os.getpid() > 0"
)
OUTSIDE = "Report more.\n" + block("def accuracy(xs):", "def accuracy(xs):\n    print(len(xs))")
THREE = "Multiples of three are exactly the positives.\n" + block("    return x % 6 == 0", "    return x % 3 == 0")
CAP = "language-model cap reached: 5 requests spent of search.options.max_requests 5"


def _goal(url: str) -> dict[str, Any]:
    return {
        "study": "code",
        "task": {"name": "user_code", "file": "prog.py", "eval": "python prog.py", "timeout_s": 30},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 10},
        "search": {
            "proposer": "llm",
            "base_url": url,
            "model": "scripted",
            "options": {"max_requests": 5, "parent_pool": 1, "backoff_s": 0.01, "timeout_s": 10},
        },
    }


def test_a_program_is_evolved_by_scripted_replies_until_the_request_cap(
    llm_server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prog.py").write_text(PROGRAM)
    llm_server.push(reply("Raise accuracy by predicting multiples of six."), reply(SIX), reply(SYSTEM))
    llm_server.push(reply(OUTSIDE), reply(THREE))
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    report = run_study(goal_from_dict(_goal(llm_server.url)), storage, workers=0)
    assert report.stopped_because == CAP and len(llm_server.requests) == 5

    store = Store(storage)
    study = store.get_study("code")
    assert study is not None
    trials = store.trials(study.id)
    # the program as written ran first, unchanged, in the same sandbox as every candidate
    assert trials[0].rationale == "the program as written" and trials[0].parents == ()
    assert trials[0].metrics["val_accuracy"] == pytest.approx(40 / 60)
    assert [t.state for t in trials] == ["complete", "complete", "failed", "complete"]
    assert [t.parents for t in trials] == [(), (0,), (1,), (1,)]
    assert trials[1].metrics["val_accuracy"] == pytest.approx(50 / 60) and trials[3].metrics["val_accuracy"] == 1.0
    # the candidate that imports os was refused by the sandbox's static check; the study went on
    assert trials[2].error is not None and "sandbox refused: static check: line 6:" in trials[2].error
    assert "'os'" in trials[2].error.strip().splitlines()[-1]

    infos = {e.trial_number: e.payload["info"] for e in store.events(study.id, "proposed")}
    assert infos[0] == {"route": "seed"}
    assert [r["reason"][:30] for r in infos[1]["rejected"]] == ["the reply has no <<<<<<< SEARC"]
    assert "outside the EVOLVE blocks" in infos[3]["rejected"][0]["reason"]
    for n in (1, 2, 3):
        assert infos[n]["prompt"][0]["role"] == "system" and infos[n]["reply"] and infos[n]["diff"].startswith("---")
    assert infos[3]["reply"] == THREE and "-    return x % 6 == 0\n+    return x % 3 == 0" in infos[3]["diff"]
    prompt = infos[3]["prompt"][1]["content"]
    assert "trial #1, score 0.833333" in prompt
    assert "## trial #2 from #1: Ask the operating system. -> refused by the sandbox: line 6:" in prompt
    assert infos[2]["static_check"] in trials[2].error and infos[3]["static_check"] is None
    designer = store.events(study.id, "designer")[-1].payload["llm"]
    assert (designer["requests"], designer["malformed"], designer["proposals"]) == (5, 2, 3)

    # the evidence gate promoted the better programs, judged on the held-out test_accuracy they print
    generations = store.generations(study.id)
    assert [g.trial_number for g in generations] == [0, 1, 3]
    assert generations[-1].held_out == 1.0

    capsys.readouterr()
    assert main(["lineage", "--storage", storage]) == 0
    assert "changed: regions[0][1]:     return x % 6 == 0 ->     return x % 3 == 0" in capsys.readouterr().out
    assert main(["trials", "--storage", storage]) == 0
    assert "llm_edit: Multiples of three are exactly the positives." in capsys.readouterr().out
    out = tmp_path / "champion"
    assert main(["export", "--storage", storage, "--out", str(out)]) == 0
    assert (out / "prog.py").read_text() == PROGRAM.replace("return False", "return x % 3 == 0")
    assert json.loads((out / "card.json").read_text())["files"] == ["prog.py", "card.json"]

    # resumed, the proposer replays its spend from the store: the cap holds without a new request
    again = run_study(goal_from_dict(_goal(llm_server.url)), storage, workers=0)
    assert again.stopped_because == CAP and len(llm_server.requests) == 5
