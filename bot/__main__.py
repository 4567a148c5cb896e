"""Command line: `python -m bot serve | worker | scheduler | demo | longconn | doctor`."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys

from bot.settings import ConfigError, Settings


def _serve(args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from bot.transports.webhook import check_webhook_settings, create_app

    settings = Settings.from_env()
    for warning in check_webhook_settings(settings):  # refuses (ConfigError → exit 2) a webhook checking nothing
        logging.getLogger("bot").warning(warning)
    # Acknowledge at once, work in the background: what answers Feishu (the transport, the pipeline, the inbox)
    # is built now; the router, the commands, the cards and the API clients once the server listens.
    app = create_app(settings, lazy=True)
    gc.freeze()  # start-up's objects out of the collector's view: no long full collections under load (bot/wsgi.py)
    server = make_server(args.host, args.port, app, threaded=True)
    app.extensions["bot"].warm_up(then=gc.freeze)
    logging.getLogger("bot").info("serving the webhook on http://%s:%d", args.host, server.server_port)
    print(f"Webhook: http://{args.host}:{server.server_port}/webhook/event  "
          f"cards: /webhook/card  health: /healthz", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def _scheduler(_args: argparse.Namespace) -> int:
    from bot.scheduler import run_scheduler

    try:
        run_scheduler(Settings.from_env())
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


def _worker(_args: argparse.Namespace) -> int:
    """Answer the messages the web process recorded (BOT_REPLY_WORKER=separate on the web process)."""
    import signal

    from bot.worker import create_worker

    settings = Settings.from_env()
    if settings.reply_worker != "separate":
        logging.getLogger("bot").warning("BOT_REPLY_WORKER is not 'separate': the web process answers messages "
                                         "itself, and this worker only takes over what it left unfinished")
    worker = create_worker(settings)
    if settings.worker_nice:  # acknowledgements first (see Settings.worker_nice)
        os.nice(settings.worker_nice)
    gc.freeze()
    for signum in (signal.SIGTERM, signal.SIGINT):  # finish the messages in hand, then exit
        signal.signal(signum, lambda *_: worker.stop())
    print(f"Worker {worker.worker_id}: answering recorded messages", flush=True)
    worker.run()
    return 0


def _longconn(_args: argparse.Namespace) -> int:
    """Receive events over lark-oapi's WebSocket client instead of a public webhook."""
    from bot.app import Bot
    from bot.transports.longconn import run_longconn

    run_longconn(Bot.from_settings(Settings.from_env(), role="longconn"))
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from bot.doctor import run

    return run(transport=args.transport)


def _secret_key(_args: argparse.Namespace) -> int:
    """Print a new BOT_SECRET_KEY (a Fernet key: 32 random bytes)."""
    from bot.settings import new_secret_key

    print(new_secret_key())
    return 0


def _rotate_keys(_args: argparse.Namespace) -> int:
    """Re-encrypt every stored user token with BOT_SECRET_KEY (earlier keys from BOT_SECRET_KEY_PREVIOUS)."""
    from bot.store import Store
    from bot.tokens import rotate_tokens

    settings = Settings.from_env()
    if not settings.secret_key:
        raise ConfigError("BOT_SECRET_KEY is not set: nothing to rotate to (generate one with "
                          "`python -m bot secret-key`)")
    rotated, unreadable = rotate_tokens(Store(settings.database_url), secret_key=settings.secret_key,
                                        previous=settings.secret_key_previous)
    print(f"re-encrypted {rotated} user token(s) with BOT_SECRET_KEY; {unreadable} unreadable with any "
          "configured key (left as they are; deleted when next used)")
    return 1 if unreadable else 0


def _demo(args: argparse.Namespace) -> int:
    from devkit.demo import run_demo

    return run_demo(as_person=args.as_person, say=args.say, group=args.group, page_port=args.page_port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="The OKR & people bot for Feishu.")
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the webhook (POST /webhook/event, /webhook/card)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=_serve)
    sub.add_parser("worker", help="answer recorded messages (with BOT_REPLY_WORKER=separate on the web process)"
                   ).set_defaults(func=_worker)
    sub.add_parser("scheduler", help="run the scheduler process (digests, reminders)").set_defaults(func=_scheduler)
    sub.add_parser("longconn", help="receive events over a WebSocket long connection").set_defaults(func=_longconn)
    doctor = sub.add_parser("doctor", help="check this deployment against Feishu, line by line (exit 0: all set)")
    doctor.add_argument("--transport", choices=("webhook", "longconn"), default="",
                        help="which transport to check (default: webhook when BOT_PUBLIC_URL is set)")
    doctor.set_defaults(func=_doctor)
    sub.add_parser("secret-key", help="print a new BOT_SECRET_KEY").set_defaults(func=_secret_key)
    sub.add_parser("rotate-keys", help="re-encrypt stored user tokens with BOT_SECRET_KEY (old keys in "
                   "BOT_SECRET_KEY_PREVIOUS)").set_defaults(func=_rotate_keys)
    demo = sub.add_parser("demo", help="chat with the bot against the built-in Feishu sandbox")
    demo.add_argument("--as", dest="as_person", default="", help="who you are (a seeded name)")
    demo.add_argument("--say", default=None, help="send one message, print the reply, exit")
    demo.add_argument("--group", default="", help="talk in this seeded group instead of a direct chat")
    demo.add_argument("--page-port", type=int, default=8765,
                      help="port of the chat page on 127.0.0.1 (default 8765; any free port if taken; 0 = any)")
    demo.set_defaults(func=_demo)
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
