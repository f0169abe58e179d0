"""The language-model proposer against a scripted endpoint: what it asks, what it does with each kind of reply,
its caps, and rebuilding its state from the stored proposals."""

from __future__ import annotations

from typing import Any

import pytest

from evoforge._errors import GoalError
from evoforge.goal import Search
from evoforge.proposers import Proposal, ProposerExhausted
from evoforge.proposers._llm import LLMProposer
from evoforge.spaces import CodeSpace, NB201Space
from tests.llm.server import ScriptedServer, error, reply
from tests.llm.test_edits import block
from tests.spaces.test_code_space import PROGRAM

GOOD = "Scale up: a larger input.\n" + block("    scale = 2", "    scale = 3")
BETTER = "Scale further.\n" + block("    scale = 2", "    scale = 4")
OUTSIDE = "Print more.\n" + block("    print(score(scale))", "    print(score(scale), 1)")
MALFORMED = "I suggest raising the scale to 3."


def _proposer(server: ScriptedServer, **options: Any) -> LLMProposer:
    options = {"backoff_s": 0.001, "timeout_s": 5.0, "parent_pool": 1, **options}
    search = Search(proposer="llm", base_url=server.url, model="scripted", options=options)
    proposer = LLMProposer.from_search(search, CodeSpace(PROGRAM, "prog.py"))
    assert isinstance(proposer, LLMProposer)
    return proposer


def _seeded(server: ScriptedServer, score: float = 0.5, **options: Any) -> LLMProposer:
    """A proposer whose first trial (the program as written) finished with ``score``."""
    p = _proposer(server, **options)
    seed = p.ask(0)
    p.tell(0, seed.design, (score,), seed)
    return p


def test_the_first_trial_is_the_program_as_written_and_costs_no_request(llm_server: ScriptedServer) -> None:
    p = _proposer(llm_server)
    first = p.ask(0)
    assert first.design == CodeSpace(PROGRAM, "prog.py").seed and first.parents == () and first.operator is None
    assert llm_server.requests == []


def test_a_valid_reply_becomes_a_child_with_its_prompt_reply_and_diff(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, 0.5)
    llm_server.push(reply(GOOD, prompt_tokens=900, completion_tokens=40))
    child = p.ask(1)
    assert child.parents == (0,) and child.operator == "llm_edit" and child.rationale == "Scale up: a larger input."
    assert p.code.render(child.design) == PROGRAM.replace("scale = 2", "scale = 3")
    info = child.info
    assert info["reply"] == GOOD and info["model"] == "scripted" and info["rejected"] == []
    assert "-    scale = 2\n+    scale = 3" in info["diff"] and info["static_check"] is None
    assert info["spend"]["requests"] == 1 and info["spend"]["tokens"] == 940
    user = info["prompt"][1]["content"]
    assert PROGRAM in user and "trial #0, score 0.5" in user
    assert info["prompt"] == llm_server.requests[0]["body"]["messages"]


def test_the_prompt_shows_what_was_tried_with_its_outcome(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, 0.5)
    llm_server.push(reply(GOOD), reply(BETTER))
    child = p.ask(1)
    p.tell(1, child.design, None, child)  # it failed
    p.ask(2)
    user = llm_server.requests[1]["body"]["messages"][1]["content"]
    assert "## trial #1 from #0: Scale up: a larger input. -> failed or broke a constraint" in user
    assert "+    scale = 3" in user


def test_malformed_and_outside_replies_are_counted_fed_back_and_asked_again(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server)
    llm_server.push(reply(MALFORMED), reply(OUTSIDE), reply(GOOD))
    child = p.ask(1)
    reasons = [r["reason"] for r in child.info["rejected"]]
    assert reasons[0].startswith("the reply has no <<<<<<< SEARCH")
    assert reasons[1].startswith("the edit changes code outside the EVOLVE blocks: after block 2")
    assert child.info["spend"]["malformed"] == 2 and child.info["spend"]["requests"] == 3
    third = llm_server.requests[2]["body"]["messages"]
    assert third[-2] == {"role": "assistant", "content": OUTSIDE}
    assert "could not be used: the edit changes code outside the EVOLVE blocks" in third[-1]["content"]
    assert p.insights()["llm"]["malformed"] == 2


def test_a_program_already_tried_is_refused_like_a_malformed_reply(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server)
    llm_server.push(reply(GOOD), reply(GOOD), reply(BETTER))
    p.ask(1)
    second = p.ask(2)
    assert second.info["rejected"][0]["reason"] == "the edit gives the program of trial #1, which was already tried"


def test_the_parent_is_the_best_program_so_far(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, 0.5)
    llm_server.push(reply(GOOD), reply("Go on.\n" + block("    scale = 3", "    scale = 5")))
    child = p.ask(1)
    p.tell(1, child.design, (0.9,), child)
    grandchild = p.ask(2)
    assert grandchild.parents == (1,)
    assert "trial #1, score 0.9" in grandchild.info["prompt"][1]["content"]


def test_a_request_cap_stops_proposing_with_its_message(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, max_requests=2)
    llm_server.push(reply(MALFORMED), reply(GOOD), reply(BETTER))
    p.ask(1)  # two requests: one malformed reply, one good
    with pytest.raises(ProposerExhausted, match=r"cap reached: 2 requests spent of search.options.max_requests 2"):
        p.ask(2)
    assert len(llm_server.requests) == 2


def test_a_request_cap_also_bounds_the_replies_within_one_proposal(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, max_requests=1, attempts_per_proposal=5)
    llm_server.push(reply(MALFORMED), reply(GOOD))
    with pytest.raises(ProposerExhausted, match="max_requests 1"):
        p.ask(1)
    assert len(llm_server.requests) == 1


def test_token_and_cost_caps_stop_proposing(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, max_tokens=1000)
    llm_server.push(reply(GOOD, prompt_tokens=990, completion_tokens=20))
    p.ask(1)
    with pytest.raises(ProposerExhausted, match="1010 tokens spent of search.options.max_tokens 1000"):
        p.ask(2)
    q = _seeded(llm_server, max_cost_usd=0.01, price_per_1k_input=0.01, price_per_1k_output=0.01)
    llm_server.push(reply(GOOD, prompt_tokens=900, completion_tokens=100))
    q.ask(1)
    with pytest.raises(ProposerExhausted, match="cap reached: 0.01 USD spent of search.options.max_cost_usd 0.01"):
        q.ask(2)


def test_an_endpoint_that_keeps_failing_stops_proposing(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, retries=2)
    llm_server.push(error(500), error(502), error(503))
    with pytest.raises(ProposerExhausted, match=r"failed 3 time\(s\) in a row; last: HTTP 503"):
        p.ask(1)
    assert p.insights()["llm"]["requests"] == 3


def test_a_refused_request_stops_at_once_naming_the_status(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server)
    llm_server.push(error(401, "invalid api key"))
    with pytest.raises(ProposerExhausted, match="HTTP 401 from the endpoint: invalid api key"):
        p.ask(1)
    assert len(llm_server.requests) == 1


def test_replies_that_never_apply_stop_after_the_attempts_per_proposal(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, attempts_per_proposal=2)
    llm_server.push(reply(MALFORMED), reply(OUTSIDE))
    with pytest.raises(ProposerExhausted, match="gave 2 replies in a row that could not be used"):
        p.ask(1)


def test_nothing_is_asked_when_the_program_as_written_failed(llm_server: ScriptedServer) -> None:
    p = _proposer(llm_server)
    seed = p.ask(0)
    p.tell(0, seed.design, None, seed)
    with pytest.raises(ProposerExhausted, match="the program as written failed"):
        p.ask(1)
    assert llm_server.requests == []


def test_replaying_the_stored_proposals_rebuilds_spend_and_memory(llm_server: ScriptedServer) -> None:
    p = _seeded(llm_server, 0.5)
    llm_server.push(reply(MALFORMED, prompt_tokens=100, completion_tokens=10))
    llm_server.push(reply(GOOD, prompt_tokens=120, completion_tokens=30))
    child = p.ask(1)
    p.tell(1, child.design, (0.7,), child)
    fresh = _proposer(llm_server)
    seed = Proposal(p.code.seed, (), None, "the program as written", {"route": "seed"})
    fresh.tell(0, seed.design, (0.5,), seed)
    stored = Proposal(child.design, child.parents, child.operator, child.rationale, child.info)
    fresh.tell(1, child.design, (0.7,), stored)
    assert fresh.insights() == p.insights()
    assert fresh.insights()["llm"] == {
        "model": "scripted",
        "proposals": 1,
        "requests": 2,
        "prompt_tokens": 220,
        "completion_tokens": 40,
        "tokens": 260,
        "cost_usd": 0.0,
        "malformed": 1,
        "estimated": False,
    }
    assert fresh.memory.context(1) == p.memory.context(1)


def test_the_api_key_is_read_from_the_named_environment_variable(
    llm_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-secret")
    search = Search(proposer="llm", base_url=llm_server.url, model="m", api_key_env="MY_LLM_KEY")
    p = LLMProposer.from_search(search, CodeSpace(PROGRAM, "prog.py"))
    assert isinstance(p, LLMProposer) and p.client.endpoint.api_key == "sk-secret"


def test_another_space_or_a_bad_setting_is_refused_with_one_line(llm_server: ScriptedServer) -> None:
    search = Search(proposer="llm", base_url=llm_server.url, model="m")
    with pytest.raises(GoalError, match="llm edits a program \\(task user_code\\), not designs of the nb201 space"):
        LLMProposer.from_search(search, NB201Space())
    with pytest.raises(ValueError, match="max_cost_usd needs price_per_1k_input or price_per_1k_output"):
        _proposer(llm_server, max_cost_usd=1.0)
    with pytest.raises(ValueError, match="^max_requests: expected a whole number of 1 or more, got 0$"):
        _proposer(llm_server, max_requests=0)
    with pytest.raises(ValueError, match="^temperature: expected a number of 0 or more, got 'hot'$"):
        _proposer(llm_server, temperature="hot")
