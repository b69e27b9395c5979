"""A real local HTTP server that plays an OpenAI-compatible chat endpoint for the LLM tests.

It speaks just enough of POST /v1/chat/completions for the official openai client, so every test
goes through the real client and real sockets on 127.0.0.1. What it answers is the subclass's
``answer``; the server records each call's prompt and Authorization header and the peak number of
requests in flight.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = str | tuple[int, dict, dict]
"""The assistant message's content (HTTP 200), or ``(status, payload, headers)`` for anything else."""


class ChatServer(ABC):
    """Records every call's prompt and auth header and replies with the subclass's ``answer``."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.lock = threading.Lock()
        self.prompts: list[str] = []
        self.auth: list[str | None] = []
        self.inflight = 0
        self.max_inflight = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @abstractmethod
    def answer(self, body: dict, prompt: str, auth: str | None) -> Reply:
        """The reply to one chat call: ``prompt`` is its last message's content, ``auth`` the
        Authorization header it came with."""

    def start(self) -> ChatServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    @property
    def total(self) -> int:
        """Chat calls received so far."""
        return len(self.prompts)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                with fake.lock:
                    fake.inflight += 1
                    fake.max_inflight = max(fake.max_inflight, fake.inflight)
                try:
                    body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                    fake._serve(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with fake.lock:
                        fake.inflight -= 1

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, body: dict) -> None:
        if handler.path != "/v1/chat/completions":
            return send(handler, 404, {"error": {"message": "not found"}})
        prompt = body["messages"][-1]["content"]
        auth = handler.headers.get("Authorization")
        with self.lock:
            self.prompts.append(prompt)
            self.auth.append(auth)
        if self.delay:
            time.sleep(self.delay)
        reply = self.answer(body, prompt, auth)
        if isinstance(reply, str):
            return send(handler, 200, completion(body["model"], reply))
        status, payload, headers = reply
        return send(handler, status, payload, headers)


def send(handler: BaseHTTPRequestHandler, status: int, payload: dict, headers: dict | None = None) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def completion(model: str, content: str) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 12, "total_tokens": 22},
    }
