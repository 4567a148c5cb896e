"""Serve a sandbox app on a loopback port in a background thread (tests, demo, benchmarks)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .longconn import LongConnection
from .state import SandboxState

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("sandbox %s %s -> %s", self.command, self.path, code)


class SandboxServer:
    """A started-on-demand threaded WSGI server; `url` is what lark-oapi's `.domain(...)` wants."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="feishu-sandbox",
            daemon=True,
        )
        self._started = False

    @property
    def host(self) -> str:
        return str(self._server.host)

    @property
    def port(self) -> int:
        return int(self._server.port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        return self.app.extensions["sandbox"]  # type: ignore[no-any-return]

    @property
    def longconn(self) -> LongConnection:
        """Feishu's long-connection channel (its WebSocket server starts when a client asks for the endpoint)."""
        return self.app.extensions["longconn"]  # type: ignore[no-any-return]

    def start(self) -> SandboxServer:
        if not self._started:
            self._thread.start()
            self._started = True
            log.info("feishu sandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        if self._started:
            self.state.faults.clear()  # cut short any delay faults still sleeping
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._started = False
        self.longconn.stop()
        self._server.server_close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def serve_in_thread(
    app: Flask | None = None, *, host: str = "127.0.0.1", port: int = 0, **create_options: Any
) -> SandboxServer:
    """Start a sandbox (a new one from `create_options` unless `app` is given) and return its server."""
    if app is None:
        from .app import create_sandbox

        app = create_sandbox(**create_options)
    return SandboxServer(app, host, port).start()
