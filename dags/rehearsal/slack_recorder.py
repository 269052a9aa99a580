"""A local stand-in for a Slack incoming webhook: accepts what Slack accepts (a JSON body with
``text`` and/or ``blocks``), answers ``ok`` like Slack, and records every message so the
rehearsal can print them and the tests can assert on them."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlackRecorder:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.messages: list[dict[str, Any]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    payload = json.loads(body)
                    ok = isinstance(payload, dict) and bool(payload.get("text") or payload.get("blocks"))
                except ValueError:
                    payload, ok = {"raw": body.decode("utf-8", "replace")}, False
                if ok:
                    recorder.messages.append(dict(payload, path=self.path))
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"ok" if ok else b"invalid_payload")

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.url = f"http://{host}:{self.server.server_address[1]}/services/T0000/B0000/rehearsal"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SlackRecorder":
        self._thread.start()
        return self

    @property
    def started(self) -> bool:
        return self._thread.is_alive()

    def __exit__(self, *exc: Any) -> None:
        if self.started:  # shutdown() waits for serve_forever, which a recorder never entered never runs
            self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages]

    def clear(self) -> None:
        self.messages.clear()
