"""A real OpenAI-compatible chat endpoint for tests: an HTTP server on 127.0.0.1 in a thread, answering each
``POST /v1/chat/completions`` with the next scripted behaviour (a reply, an HTTP error, a reply too late, a body
that is not a chat completion) and recording every request it got."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Behaviour:
    """What the server does with one request: wait ``delay_s``, then answer ``status`` with ``body`` (a chat
    completion of ``text`` when ``body`` is None; ``text`` may be a function of the request's messages)."""

    text: str | Callable[[list[dict[str, str]]], str] = ""
    status: int = 200
    body: bytes | None = None
    delay_s: float = 0.0
    usage: dict[str, int] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def reply(text: str | Callable[[list[dict[str, str]]], str], **usage: int) -> Behaviour:
    """A chat completion of ``text``; with ``prompt_tokens`` / ``completion_tokens`` as its reported usage."""
    return Behaviour(text, usage=usage or None)


def error(status: int, message: str = "scripted error", **headers: str) -> Behaviour:
    body = json.dumps({"error": {"message": message, "type": "scripted"}}).encode()
    return Behaviour(status=status, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})


def slow(delay_s: float, text: str = "too late") -> Behaviour:
    return Behaviour(text, delay_s=delay_s)


def not_a_completion() -> Behaviour:
    return Behaviour(body=b'{"object": "something else"}')


class ScriptedServer:
    """Serves the scripted behaviours in order; once they are used up, every request gets ``default`` (HTTP 503
    unless set)."""

    def __init__(self) -> None:
        self.script: deque[Behaviour] = deque()
        self.default: Behaviour | None = None
        self.requests: list[dict[str, Any]] = []  # {"path": ..., "body": the JSON sent, "headers": {...}}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def push(self, *behaviours: Behaviour) -> None:
        with self._lock:
            self.script.extend(behaviours)

    def start(self) -> ScriptedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next(self, request: dict[str, Any]) -> Behaviour:
        with self._lock:
            self.requests.append(request)
            if self.script:
                return self.script.popleft()
            return self.default or error(503, "the script has no reply left")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                b = server._next({"path": self.path, "body": body, "headers": dict(self.headers)})
                if b.delay_s:
                    time.sleep(b.delay_s)
                if self.path != "/v1/chat/completions":
                    b = error(404, f"no route {self.path}")
                payload = b.body if b.body is not None else _completion(b, body)
                try:
                    self.send_response(b.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in b.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:  # the client gave up waiting (a scripted timeout)
                    pass

        return Handler


def _completion(b: Behaviour, request: dict[str, Any]) -> bytes:
    text = b.text(request["messages"]) if callable(b.text) else b.text
    data: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": request.get("model"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }
    if b.usage is not None:
        data["usage"] = {**b.usage, "total_tokens": sum(b.usage.values())}
    return json.dumps(data).encode()
