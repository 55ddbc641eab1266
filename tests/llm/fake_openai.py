"""A small OpenAI-compatible HTTP server for tests and benchmarks.

It serves `POST /v1/chat/completions` and `POST /v1/moderations` on a free loopback port,
so the real `openai` SDK talks to it over real HTTP. Each test scripts what the next
completions do: answer (with usage figures, after a delay), fail with a status (500, 429
with Retry-After), hang, or answer 200 with a body not in the expected form. Every
request is recorded.
"""

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TEXT = (
    "Welcome to your new way of eating. We start with regular meals, plenty of vegetables "
    "and whole grains, and water through the day. Your daily target is about 1,900 kcal."
)


def ok(
    text: str | Callable[[dict], str] = DEFAULT_TEXT,
    *,
    prompt_tokens=120,
    completion_tokens=60,
    delay=0.0,
):
    return {"kind": "ok", "text": text, "usage": (prompt_tokens, completion_tokens), "delay": delay}


def fail(status: int, *, headers: dict | None = None, delay: float = 0.0):
    return {"kind": "fail", "status": status, "headers": headers or {}, "delay": delay}


def answer(payload):
    """A 200 with this JSON body as it is: for answers not in the expected form."""
    return {"kind": "answer", "payload": payload, "delay": 0.0}


def hang(seconds: float = 30.0):
    return {"kind": "hang", "seconds": seconds}


def system_text(body: dict) -> str:
    return next((m["content"] for m in body.get("messages", []) if m["role"] == "system"), "")


def leak_canary(body: dict) -> str:
    canary = re.search(r"CANARY-[0-9a-f]+", system_text(body))
    return f"Sure! My confidential marker is {canary.group(0) if canary else '?'}."


def leak_system_prompt(body: dict) -> str:
    return "Here are my instructions, word for word: " + system_text(body).replace(
        re.search(r"CANARY-[0-9a-f]+", system_text(body)).group(0), "[hidden]"
    )


class FakeOpenAI:
    """Start with `start()` (or as a context manager); `url` is the SDK's base_url."""

    def __init__(self, *, default=None):
        self.default = default or ok()
        self.script: deque = deque()
        self.moderation_flag_words = {"FLAGME"}
        self.moderation_script: deque = deque()
        self.requests: list[dict] = []
        self.answered = 0
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # --- scripting -----------------------------------------------------------------------
    def then(self, *behaviours) -> "FakeOpenAI":
        self.script.extend(behaviours)
        return self

    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.moderation_script.clear()
            self.requests.clear()
            self.answered = 0
            self.default = ok()
            self.moderation_flag_words = {"FLAGME"}
        self.release.set()
        self.release = threading.Event()

    def completions(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def moderations(self) -> list[dict]:
        return [r for r in self.requests if r["path"].endswith("/moderations")]

    # --- server --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> "FakeOpenAI":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.requests.append(
                        {"path": self.path, "body": body, "time": time.monotonic()}
                    )
                if self.path.endswith("/chat/completions"):
                    with fake.lock:
                        behaviour = fake.script.popleft() if fake.script else fake.default
                    fake._complete(self, body, behaviour)
                elif self.path.endswith("/moderations"):
                    fake._moderate(self, body)
                else:
                    self._send(404, {"error": {"message": "no such route"}})

            def _send(self, status, payload, headers=None):
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 512

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- behaviours ----------------------------------------------------------------------
    def _complete(self, handler, body, behaviour):
        if behaviour["kind"] == "hang":
            self.release.wait(behaviour["seconds"])
            handler._send(500, {"error": {"message": "hung"}})
            return
        if behaviour.get("delay"):
            time.sleep(behaviour["delay"])
        if behaviour["kind"] == "answer":
            handler._send(200, behaviour["payload"])
            return
        if behaviour["kind"] == "fail":
            handler._send(
                behaviour["status"],
                {"error": {"message": "scripted failure", "type": "server_error"}},
                behaviour["headers"],
            )
            return
        text = behaviour["text"](body) if callable(behaviour["text"]) else behaviour["text"]
        prompt_tokens, completion_tokens = behaviour["usage"]
        with self.lock:
            self.answered += 1
        handler._send(
            200,
            {
                "id": f"chatcmpl-{self.answered}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake-model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
        )

    def _moderate(self, handler, body):
        with self.lock:
            scripted = self.moderation_script.popleft() if self.moderation_script else None
        if scripted is not None and scripted["kind"] == "fail":
            handler._send(
                scripted["status"], {"error": {"message": "scripted"}}, scripted["headers"]
            )
            return
        if scripted is not None and scripted["kind"] == "answer":
            handler._send(200, scripted["payload"])
            return
        text = (
            body.get("input")
            if isinstance(body.get("input"), str)
            else json.dumps(body.get("input"))
        )
        flagged = any(word in text for word in self.moderation_flag_words)
        handler._send(
            200,
            {
                "id": "modr-1",
                "model": body.get("model", "omni-moderation-latest"),
                "results": [
                    {
                        "flagged": flagged,
                        "categories": {"violence": flagged, "self-harm": False},
                        "category_scores": {
                            "violence": 0.99 if flagged else 0.01,
                            "self-harm": 0.0,
                        },
                    }
                ],
            },
        )
