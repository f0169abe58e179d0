"""The chat client against a real HTTP endpoint: replies, usage, retries with backoff, timeouts, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from evoforge.llm import ChatClient, Endpoint, LLMError
from tests.llm.server import ScriptedServer, error, not_a_completion, reply, slow

ASK = [{"role": "user", "content": "improve this program " * 10}]


def _client(server: ScriptedServer, **settings: Any) -> tuple[ChatClient, list[float]]:
    waits: list[float] = []
    endpoint = Endpoint(server.url, "scripted-model", **{"timeout_s": 2.0, "backoff_s": 0.5, **settings})
    return ChatClient(endpoint, sleep=waits.append), waits


def test_a_reply_comes_back_with_its_reported_usage_and_cost(llm_server: ScriptedServer) -> None:
    llm_server.push(reply("hello", prompt_tokens=1000, completion_tokens=500))
    client, _ = _client(llm_server, price_per_1k_input=0.5, price_per_1k_output=2.0)
    got = client.complete(ASK)
    assert got.text == "hello" and got.requests == 1
    assert (got.usage.prompt_tokens, got.usage.completion_tokens, got.usage.estimated) == (1000, 500, False)
    assert got.usage.cost_usd == pytest.approx(0.5 + 1.0)


def test_the_request_names_the_model_and_carries_the_key_and_settings(llm_server: ScriptedServer) -> None:
    llm_server.push(reply("ok"))
    client, _ = _client(llm_server, api_key="sk-test", temperature=0.2, max_reply_tokens=321)
    client.complete(ASK)
    sent = llm_server.requests[0]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "scripted-model" and sent["body"]["messages"] == ASK
    assert sent["body"]["temperature"] == 0.2 and sent["body"]["max_tokens"] == 321
    assert sent["headers"]["Authorization"] == "Bearer sk-test"


def test_without_a_key_no_authorization_header_is_sent(llm_server: ScriptedServer) -> None:
    llm_server.push(reply("ok"))
    _client(llm_server)[0].complete(ASK)
    assert "Authorization" not in llm_server.requests[0]["headers"]


def test_usage_is_estimated_from_characters_when_the_endpoint_reports_none(llm_server: ScriptedServer) -> None:
    llm_server.push(reply("x" * 400))
    got = _client(llm_server)[0].complete(ASK)
    assert got.usage.estimated and got.usage.completion_tokens == 100
    assert got.usage.prompt_tokens == len(ASK[0]["content"]) // 4


def test_server_errors_and_rate_limits_are_retried_with_growing_waits(llm_server: ScriptedServer) -> None:
    llm_server.push(error(500), error(429), error(503), reply("finally"))
    client, waits = _client(llm_server, retries=3)
    got = client.complete(ASK)
    assert got.text == "finally" and got.requests == 4 and len(llm_server.requests) == 4
    assert [f.split(":")[0] for f in got.failures] == [f"HTTP {c} from the endpoint" for c in (500, 429, 503)]
    # exponential backoff with jitter of up to half: 0.5, 1, 2 seconds, each plus at most half again
    assert len(waits) == 3
    for k, wait in enumerate(waits):
        assert 0.5 * 2**k <= wait <= 0.75 * 2**k


def test_a_rate_limit_with_retry_after_waits_as_the_server_asks(llm_server: ScriptedServer) -> None:
    llm_server.push(error(429, "slow down", Retry_After="7"), reply("ok"))
    client, waits = _client(llm_server, max_backoff_s=30.0)
    client.complete(ASK)
    assert 7.0 <= waits[0] <= 10.5


def test_a_reply_later_than_the_timeout_is_retried(llm_server: ScriptedServer) -> None:
    llm_server.push(slow(1.5), reply("in time"))
    client, _ = _client(llm_server, timeout_s=0.3)
    got = client.complete(ASK)
    assert got.text == "in time" and got.requests == 2
    assert got.failures == ["no reply within 0.3 s"]


def test_a_body_that_is_not_a_chat_completion_is_retried(llm_server: ScriptedServer) -> None:
    llm_server.push(not_a_completion(), reply("ok"))
    got = _client(llm_server)[0].complete(ASK)
    assert got.text == "ok" and "not a chat completion" in got.failures[0]


def test_retries_give_up_with_one_line_naming_the_last_failure(llm_server: ScriptedServer) -> None:
    llm_server.push(*[error(500, "overloaded")] * 3)
    client, waits = _client(llm_server, retries=2)
    with pytest.raises(LLMError) as caught:
        client.complete(ASK)
    assert caught.value.attempts == 3 and caught.value.retryable and len(waits) == 2
    assert str(caught.value) == "the endpoint failed 3 time(s) in a row; last: HTTP 500 from the endpoint: overloaded"


@pytest.mark.parametrize("status", [400, 401, 404])
def test_a_client_error_is_not_retried(llm_server: ScriptedServer, status: int) -> None:
    llm_server.push(error(status, "invalid model name"), reply("never asked for"))
    client, waits = _client(llm_server)
    with pytest.raises(LLMError, match=f"HTTP {status} from the endpoint: invalid model name") as caught:
        client.complete(ASK)
    assert not caught.value.retryable and caught.value.attempts == 1
    assert len(llm_server.requests) == 1 and waits == []


def test_an_endpoint_that_does_not_listen_is_retried_then_named(llm_server: ScriptedServer) -> None:
    url = llm_server.url
    llm_server.stop()
    client = ChatClient(Endpoint(url, "m", timeout_s=1.0, retries=1), sleep=lambda s: None)
    with pytest.raises(LLMError, match=r"failed 2 time\(s\) in a row; last: cannot reach http://127\.0\.0\.1"):
        client.complete(ASK)


def test_a_request_budget_caps_the_retries(llm_server: ScriptedServer) -> None:
    llm_server.push(error(500), error(500), reply("too late"))
    client, _ = _client(llm_server, retries=5)
    with pytest.raises(LLMError) as caught:
        client.complete(ASK, budget=2)
    assert caught.value.attempts == 2 and len(llm_server.requests) == 2
