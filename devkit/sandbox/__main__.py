"""Run the sandbox standalone: ``python -m devkit.sandbox --port 8787 [--rate-scale 60 | --no-rate-limits]``."""

from __future__ import annotations

import argparse
import logging
import threading

from .app import create_sandbox
from .server import SandboxServer

log = logging.getLogger("devkit.sandbox")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Feishu Open Platform sandbox (星河科技 / Galaxy Tech)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--app-id", default="cli_sandbox_app")
    parser.add_argument("--app-secret", default="sandbox-secret")
    parser.add_argument("--rate-scale", type=float, default=1.0)
    parser.add_argument("--no-rate-limits", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_sandbox(
        app_id=args.app_id,
        app_secret=args.app_secret,
        rate_scale=args.rate_scale,
        rate_limits=not args.no_rate_limits,
    )
    server = SandboxServer(app, args.host, args.port).start()
    log.info(
        "sandbox ready at %s (app_id=%s); control endpoints under %s/_sandbox/",
        server.url,
        args.app_id,
        server.url,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
