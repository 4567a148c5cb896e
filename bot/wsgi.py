"""The web app for gunicorn (the Procfile's web line: `gunicorn 'bot.wsgi:app'`), built from the environment.

Once the app is built, `gc.freeze()` moves everything start-up made (lark-oapi's many modules and
models, the app, the clients) out of the garbage collector's view. Without it, every few thousand
requests a full collection walks all of those objects while holding the interpreter lock: a pause of
about 0.4 s for every request in flight, which was the webhook's p99 under load.
"""

from __future__ import annotations

import gc

from bot.web import create_app

app = create_app()
gc.freeze()
