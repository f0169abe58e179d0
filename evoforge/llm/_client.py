"""A minimal client of an OpenAI-compatible chat endpoint (``POST {base_url}/chat/completions``) over urllib: any
vLLM, llama.cpp or Ollama server, or a hosted API, without a new dependency."""

from __future__ import annotations

import http.client
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from evoforge._errors import EvoforgeError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": ...}
CHARS_PER_TOKEN = 4  # a rough estimate of tokens when the endpoint reports no usage


class LLMError(EvoforgeError):
    """A request that did not yield a reply, after its retries; one line. ``retryable`` is False when retrying
    cannot help (a 4xx other than 429: a bad key, an unknown model, a malformed request)."""

    def __init__(self, message: str, *, attempts: int, retryable: bool) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.retryable = retryable


@dataclass(frozen=True)
class Endpoint:
    """Where and how to ask. Prices are USD per 1,000 tokens (0: cost is not counted); ``timeout_s`` holds for each
    request; a failed request is retried ``retries`` times, waiting ``backoff_s * 2**k`` seconds (capped at
    ``max_backoff_s``, or the server's ``Retry-After``) plus jitter of up to half that."""

    base_url: str
    model: str
    api_key: str | None = None
    temperature: float = 0.7
    max_reply_tokens: int | None = 4096
    timeout_s: float = 120.0
    retries: int = 3
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    price_per_1k_input: float = 0.0
    price_per_1k_output: float = 0.0


@dataclass(frozen=True)
class Usage:
    """Tokens of one reply (``estimated`` when the endpoint reported none) and their cost in USD."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool
    cost_usd: float

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Reply:
    """The text of a reply, its usage, and how many HTTP requests it took (1 + retries)."""

    text: str
    usage: Usage
    requests: int
    failures: list[str] = field(default_factory=list)  # one line per failed request before this one


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN)


class _Retry(Exception):
    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.wait_s = wait_s


class ChatClient:
    """Sends chat requests to one endpoint. ``sleep`` and ``rng`` are the clock and jitter source (a test can pass
    its own); the client holds no other state, so counting requests and spend is the caller's business."""

    def __init__(
        self, endpoint: Endpoint, sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None
    ) -> None:
        self.endpoint = endpoint
        self.sleep = sleep
        self.rng = rng or random.Random(0)

    def complete(self, messages: Sequence[Message], budget: int | None = None) -> Reply:
        """The reply to ``messages``. Retries timeouts, connection errors, 429 and 5xx; sends at most ``budget``
        requests (default ``1 + retries``). Raises ``LLMError`` (with the requests it made) when none succeeded."""
        limit = 1 + self.endpoint.retries if budget is None else max(1, min(budget, 1 + self.endpoint.retries))
        failures: list[str] = []
        for attempt in range(limit):
            try:
                text, usage = self._once(messages)
                return Reply(text, usage, attempt + 1, failures)
            except _Retry as exc:
                failures.append(str(exc))
                if attempt + 1 < limit:
                    self.sleep(self._delay(attempt, exc.wait_s))
            except LLMError as exc:
                raise LLMError(str(exc), attempts=attempt + 1, retryable=False) from None
        raise LLMError(
            f"the endpoint failed {limit} time(s) in a row; last: {failures[-1]}", attempts=limit, retryable=True
        )

    def _delay(self, attempt: int, server_wait: float | None) -> float:
        e = self.endpoint
        base = min(e.max_backoff_s, server_wait if server_wait is not None else e.backoff_s * 2**attempt)
        return base + self.rng.uniform(0, base / 2)

    def _once(self, messages: Sequence[Message]) -> tuple[str, Usage]:
        e = self.endpoint
        body: dict[str, Any] = {"model": e.model, "messages": list(messages), "temperature": e.temperature}
        if e.max_reply_tokens is not None:
            body["max_tokens"] = e.max_reply_tokens
        headers = {"Content-Type": "application/json"}
        if e.api_key:
            headers["Authorization"] = f"Bearer {e.api_key}"
        url = e.base_url.rstrip("/") + "/chat/completions"
        request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=e.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise _http_error(exc) from None
        except TimeoutError:
            raise _Retry(f"no reply within {e.timeout_s:g} s") from None
        except (urllib.error.URLError, ConnectionError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise _Retry(f"no reply within {e.timeout_s:g} s") from None
            raise _Retry(f"cannot reach {url}: {reason}") from None
        return _parse(raw, messages, e)


def _http_error(exc: urllib.error.HTTPError) -> Exception:
    detail = _one_line(exc.read().decode("utf-8", "replace"))
    message = f"HTTP {exc.code} from the endpoint" + (f": {detail}" if detail else "")
    if exc.code == 429 or exc.code >= 500:
        wait = exc.headers.get("Retry-After") if exc.headers else None
        return _Retry(message, float(wait) if wait and wait.replace(".", "", 1).isdigit() else None)
    return LLMError(message, attempts=1, retryable=False)


def _one_line(text: str, limit: int = 200) -> str:
    try:  # OpenAI-style errors: {"error": {"message": ...}}
        data = json.loads(text)
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            text = str(data["error"].get("message", text))
    except json.JSONDecodeError:
        pass
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _parse(raw: bytes, messages: Sequence[Message], e: Endpoint) -> tuple[str, Usage]:
    """The reply's text and usage; a reply that is not a chat completion is retried like a server error."""
    try:
        data = json.loads(raw)
        text = data["choices"][0]["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("content is not text")
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError) as exc:
        raise _Retry(f"the endpoint's reply is not a chat completion ({type(exc).__name__}: {exc})") from None
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    reported = usage.get("prompt_tokens"), usage.get("completion_tokens")
    estimated = not all(isinstance(n, int) for n in reported)
    if estimated:
        prompt, completion = sum(estimate_tokens(m["content"]) for m in messages), estimate_tokens(text)
    else:
        prompt, completion = int(reported[0]), int(reported[1])  # type: ignore[arg-type]
    cost = (prompt * e.price_per_1k_input + completion * e.price_per_1k_output) / 1000
    return text, Usage(prompt, completion, estimated, cost)
