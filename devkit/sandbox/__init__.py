"""Built-in Feishu (Lark) Open Platform sandbox: a Flask app seeded with the fictional company 星河科技.

from devkit.sandbox import create_sandbox
app = create_sandbox(rate_scale=60.0)
state = app.extensions["sandbox"]      # SandboxState: state.outbox, state.requests, state.faults, ...
seed = state.seed                      # people, departments, chats, periods, groups, okrs, employees
"""

from __future__ import annotations

from .app import create_sandbox
from .records import AttendanceGroup, Chat, Department, Period, Person
from .seed import ANCHOR_DATE, BOT_OPEN_ID, SENSITIVE_FIELDS, SENSITIVE_MARKER, Seed, build_seed
from .server import SandboxServer, serve_in_thread
from .state import SandboxState

__all__ = [
    "ANCHOR_DATE",
    "BOT_OPEN_ID",
    "AttendanceGroup",
    "Chat",
    "Department",
    "Period",
    "Person",
    "SENSITIVE_FIELDS",
    "SENSITIVE_MARKER",
    "SandboxServer",
    "SandboxState",
    "Seed",
    "build_seed",
    "create_sandbox",
    "serve_in_thread",
]
