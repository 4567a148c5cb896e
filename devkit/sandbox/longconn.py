"""Feishu's long-connection channel ("使用长连接接收事件/回调"), as lark-oapi's ws client speaks it.

The ground truth is the installed SDK (lark_oapi/ws/client.py, const.py, enum.py, model.py, pb/pbbp2):

1. `POST {domain}/callback/ws/endpoint` with {"AppID", "AppSecret"} answers {"code": 0, "data": {"URL": ...,
   "ClientConfig": {ReconnectCount, ReconnectInterval, ReconnectNonce, PingInterval}}}; the URL's query holds
   the `device_id` and `service_id` the client parses (api/longconn.py serves it through `issue_endpoint`).
2. The client opens a WebSocket to that URL. Everything on it is a binary protobuf `Frame` (pbbp2): method 0
   (control) or 1 (data), headers type / message_id / trace_id / sum / seq, and a payload.
3. The client pings (a control frame of type "ping") at once and every PingInterval seconds; the server answers
   "pong" carrying the ClientConfig as JSON, which the client applies.
4. Feishu pushes a data frame of type "event" whose payload is the event's plain JSON (never encrypted on this
   channel); a payload split in `sum` parts arrives as `sum` frames with seq 0..sum-1 and one message_id.
5. The client answers each (whole) data frame with the same frame, a `biz_rt` header added and the payload
   replaced by a JSON `Response`: {"code": 200} or 500, and for a callback `data` = base64 of the answer's JSON.
6. lark-oapi 1.7.5 drops data frames of type "card" without an answer (oapi-sdk-python issue #126): a card
   callback is answered only when it comes as an "event" frame. The sandbox sends either (`push(frame_type=)`).

The sandbox applies a card answered in an ack to the message, as Feishu shows it at once, and records every frame
both ways (`frames`), every ack (`acks`) and every connection (`connections`) for tests to count and wait on.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from lark_oapi.ws.pb.pbbp2_pb2 import Frame
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

if TYPE_CHECKING:
    from .records import Person
    from .state import SandboxState

log = logging.getLogger(__name__)

ENDPOINT_PATH = "/callback/ws/endpoint"
WS_PATH = "/ws/v2"
SERVICE_ID = 33554678  # any int: the client echoes it in its pings (frame.service)
CONTROL, DATA = 0, 1  # lark_oapi.ws.enum.FrameType
# What Feishu answers (-1: reconnect forever; seconds). The sandbox's default reconnects at once, so that a
# test sees the reconnect without waiting up to 30 s of jitter and 120 s between tries.
FEISHU_CLIENT_CONFIG = {"ReconnectCount": -1, "ReconnectInterval": 120, "ReconnectNonce": 30, "PingInterval": 120}
SANDBOX_CLIENT_CONFIG = {"ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120}
MAX_CONNECTIONS = 50  # Feishu's limit per app; one more is refused at the handshake
HANDSHAKE_AUTH_FAILED = 514  # lark_oapi.ws.const.AUTH_FAILED
EXCEED_CONN_LIMIT = 1000040350  # lark_oapi.ws.const.EXCEED_CONN_LIMIT
FORBIDDEN = 403


@dataclass
class Ack:
    """The client's answer to one pushed data frame."""

    message_id: str
    code: int
    data: Any  # the decoded `data` (a callback's answer as JSON), None when there was none
    headers: dict[str, str]
    connection: int


@dataclass
class _Pushed:
    message_id: str
    frame_type: str
    payload: dict[str, Any]
    parts: int
    connection: int


@dataclass
class _Connection:
    number: int
    device_id: str
    socket: ServerConnection
    opened_at: float
    closed_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def _headers(frame: Frame) -> dict[str, str]:
    return {h.key: h.value for h in frame.headers}


def _frame(method: int, headers: Mapping[str, str], payload: bytes, *, seq_id: int) -> Frame:
    frame = Frame()
    frame.SeqID = seq_id
    frame.LogID = seq_id
    frame.service = SERVICE_ID
    frame.method = method
    for key, value in headers.items():
        header = frame.headers.add()
        header.key = key
        header.value = value
    frame.payload = payload
    return frame


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError:
        return payload.decode("utf-8", "replace")


class LongConnection:
    """The WebSocket side of the sandbox: started on its own thread and port on the first endpoint request."""

    def __init__(self, state: SandboxState, *, host: str = "127.0.0.1", port: int = 0,
                 client_config: Mapping[str, int] | None = None, max_connections: int = MAX_CONNECTIONS) -> None:
        self.state = state
        self.host = host
        self._port = port
        self.client_config = dict(client_config or SANDBOX_CLIENT_CONFIG)
        self.max_connections = max_connections
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._tickets: set[str] = set()
        self._connections: list[_Connection] = []
        self._frames: list[dict[str, Any]] = []
        self._acks: list[Ack] = []
        self._pushed: dict[str, _Pushed] = {}
        self._seq = itertools.count(1)

    # ---- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> LongConnection:
        with self._lock:
            if self._server is None:
                self._server = serve(self._serve, self.host, self._port, process_request=self._check_handshake,
                                     compression=None, logger=log)
                self._thread = threading.Thread(target=self._server.serve_forever, name="feishu-sandbox-ws",
                                                daemon=True)
                self._thread.start()
                log.info("feishu sandbox long connection on %s", self.base_url)
        return self

    def stop(self) -> None:
        with self._lock:
            server, thread, self._server, self._thread = self._server, self._thread, None, None
        if server is not None:
            server.shutdown()
            if thread is not None:
                thread.join(timeout=5)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the long connection is not started")
        return int(self._server.socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"ws://{self.host}:{self.port}{WS_PATH}"

    def reset(self) -> None:
        """Forget frames, acks and pushed events (live connections stay)."""
        with self._changed:
            self._frames.clear()
            self._acks.clear()
            self._pushed.clear()
            self._changed.notify_all()

    # ---- the endpoint (POST /callback/ws/endpoint) ------------------------------------------------------
    def issue_endpoint(self, app_id: object, app_secret: object) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body Feishu answers to the endpoint request. Wrong credentials get the codes of
        the token endpoint (10003 unknown app, 10014 wrong secret): Feishu does not document this endpoint's,
        and lark-oapi raises any code but 0, 1 and 1000040343 as a ClientException (it stops, no retry)."""
        from .api_errors import AUTH_INVALID_PARAM, AUTH_SECRET_INVALID

        if not app_id or not app_secret or app_id != self.state.app_id:
            return 200, {"code": AUTH_INVALID_PARAM, "msg": "app_id is invalid", "data": None}
        if app_secret != self.state.app_secret:
            return 200, {"code": AUTH_SECRET_INVALID, "msg": "app secret invalid", "data": None}
        self.start()
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        query = urlencode({"device_id": str(next(self._seq) + 7_000_000), "service_id": str(SERVICE_ID),
                           "access_key": uuid.uuid4().hex, "ticket": ticket})
        return 200, {"code": 0, "msg": "ok",
                     "data": {"URL": f"{self.base_url}?{query}", "ClientConfig": dict(self.client_config)}}

    # ---- the socket -------------------------------------------------------------------------------------
    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        """A URL the endpoint did not issue (or issued and already used) is refused, as is one connection more
        than Feishu's 50 per app; the client reads the refusal from the handshake-* headers."""
        query = parse_qs(urlsplit(request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._lock:
            live = sum(1 for c in self._connections if c.closed_at is None)
            if urlsplit(request.path).path != WS_PATH or ticket not in self._tickets:
                status, code, auth_code, msg = FORBIDDEN, FORBIDDEN, 0, "invalid ticket"
            elif live >= self.max_connections:
                status, code, auth_code, msg = FORBIDDEN, HANDSHAKE_AUTH_FAILED, EXCEED_CONN_LIMIT, "exceed conn limit"
            else:
                self._tickets.discard(ticket)  # one connection per endpoint answer
                return None
        response = connection.respond(status, msg + "\n")
        response.headers["handshake-status"] = str(code)
        response.headers["handshake-msg"] = msg
        response.headers["handshake-autherrcode"] = str(auth_code)
        return response

    def _serve(self, socket: ServerConnection) -> None:
        query = parse_qs(urlsplit(socket.request.path if socket.request else "").query)
        with self._changed:
            conn = _Connection(len(self._connections) + 1, (query.get("device_id") or [""])[0], socket,
                               time.monotonic())
            self._connections.append(conn)
            self._changed.notify_all()
        try:
            for message in socket:
                if isinstance(message, bytes):
                    self._receive(conn, message)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                conn.closed_at = time.monotonic()
                self._changed.notify_all()

    def _receive(self, conn: _Connection, raw: bytes) -> None:
        frame = Frame()
        try:
            frame.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - a frame the sandbox cannot read is logged, not fatal
            self._log_frame("client", conn, None, raw=raw)
            return
        self._log_frame("client", conn, frame)
        headers = _headers(frame)
        if frame.method == CONTROL and headers.get("type") == "ping":
            self._send(conn, _frame(CONTROL, {"type": "pong"}, json.dumps(self.client_config).encode(),
                                    seq_id=0))
        elif frame.method == DATA:
            self._record_ack(conn, frame, headers)

    def _record_ack(self, conn: _Connection, frame: Frame, headers: dict[str, str]) -> None:
        body = _decode(frame.payload)
        body = body if isinstance(body, dict) else {}
        data = body.get("data")
        if isinstance(data, str) and data:
            data = _decode(base64.b64decode(data))
        ack = Ack(headers.get("message_id", ""), int(body.get("code") or 0), data, headers, conn.number)
        with self._changed:
            self._acks.append(ack)
            pushed = self._pushed.get(ack.message_id)
            self._changed.notify_all()
        if pushed is not None and ack.code == 200:
            self._apply_callback_answer(pushed, data)

    def _apply_callback_answer(self, pushed: _Pushed, answer: Any) -> None:
        """A card in a callback's answer replaces the clicked message's card at once, as Feishu does."""
        header = pushed.payload.get("header") or {}
        if header.get("event_type") != "card.action.trigger" or not isinstance(answer, dict):
            return
        card = answer.get("card") or {}
        context = (pushed.payload.get("event") or {}).get("context") or {}
        if isinstance(card, dict) and card.get("type") == "raw" and isinstance(card.get("data"), dict):
            self.state.messages.apply_callback_card(context.get("open_message_id", ""), card["data"])

    def _send(self, conn: _Connection, frame: Frame) -> None:
        with conn.lock:
            conn.socket.send(frame.SerializeToString())
        self._log_frame("sandbox", conn, frame)

    def _log_frame(self, sender: str, conn: _Connection, frame: Frame | None, *, raw: bytes = b"") -> None:
        if frame is None:
            entry: dict[str, Any] = {"from": sender, "connection": conn.number, "method": None, "type": None,
                                     "message_id": None, "headers": {}, "payload": raw.hex()}
        else:
            headers = _headers(frame)
            entry = {"from": sender, "connection": conn.number, "method": frame.method, "type": headers.get("type"),
                     "message_id": headers.get("message_id"), "headers": headers, "service": frame.service,
                     "payload": _decode(frame.payload)}
        with self._changed:
            entry["seq"] = len(self._frames)
            entry["time"] = time.monotonic()
            self._frames.append(entry)
            self._changed.notify_all()

    # ---- pushing events ---------------------------------------------------------------------------------
    def _current(self) -> _Connection:
        with self._lock:
            live = [c for c in self._connections if c.closed_at is None]
        if not live:
            raise RuntimeError("no client is connected to the sandbox's long connection")
        return live[-1]  # Feishu pushes each event to one of the app's connections, never to all

    def push(self, payload: Mapping[str, Any], *, frame_type: str = "event", parts: int = 1,
             order: Callable[[list[int]], list[int]] | None = None, message_id: str | None = None) -> str:
        """Send an event (or callback) to the connected client as data frame(s) of `frame_type` ("event" or
        "card"); `parts` > 1 splits the payload over that many frames, sent in `order(seqs)` (default 0..n-1).
        Returns the frames' message_id (what the ack carries)."""
        conn = self._current()
        body = json.dumps(dict(payload), ensure_ascii=False).encode("utf-8")
        message_id = message_id or uuid.uuid4().hex
        parts = max(1, min(parts, len(body)))
        size = -(-len(body) // parts)
        chunks = [body[i * size:(i + 1) * size] for i in range(parts)]
        with self._changed:
            self._pushed[message_id] = _Pushed(message_id, frame_type, dict(payload), parts, conn.number)
        trace_id = uuid.uuid4().hex
        seqs = list(range(parts))
        for seq in order(seqs) if order else seqs:
            headers = {"type": frame_type, "message_id": message_id, "trace_id": trace_id, "sum": str(parts),
                       "seq": str(seq)}
            self._send(conn, _frame(DATA, headers, chunks[seq], seq_id=next(self._seq)))
        return message_id

    def push_message(self, sender: Person | str, text: str, **options: Any) -> tuple[str, dict[str, Any]]:
        """A message from a seeded person (SandboxState.simulate_user_message: the one event shape), pushed as an
        event frame; (frame message_id, event payload)."""
        payload = self.state.simulate_user_message(sender, text, **options)
        return self.push(payload), payload

    def push_click(self, operator: Person | str, message_id: str, value: Mapping[str, Any] | None = None, *,
                   frame_type: str = "event", **options: Any) -> tuple[str, dict[str, Any]]:
        """A card.action.trigger callback for a click on `message_id` (SandboxState.simulate_card_action), pushed
        as a frame of `frame_type`; (frame message_id, callback payload)."""
        payload = self.state.simulate_card_action(operator, message_id, value, **options)
        return self.push(payload, frame_type=frame_type), payload

    def drop(self) -> int:
        """Close the current connection from Feishu's side (a close frame, then the socket); its number."""
        conn = self._current()
        conn.socket.close(code=1001, reason="sandbox dropped the connection")
        return conn.number

    # ---- reading and waiting ----------------------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Block (on a Condition, woken by every frame and connection change) until predicate() is truthy;
        its last value (falsy when `timeout` seconds passed first)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout)

    def wait_for_connections(self, count: int, timeout: float = 30.0) -> int:
        """Wait until `count` connections were opened (in all); how many there were."""
        self.wait_for(lambda: len(self._connections) >= count, timeout)
        return len(self.connections)

    def wait_for_ack(self, message_id: str, timeout: float = 30.0) -> Ack | None:
        def found() -> Ack | None:
            return next((a for a in self._acks if a.message_id == message_id), None)

        return self.wait_for(found, timeout) or None

    @property
    def connections(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"number": c.number, "device_id": c.device_id, "open": c.closed_at is None}
                    for c in self._connections]

    @property
    def frames(self) -> list[dict[str, Any]]:
        """Every frame both ways, oldest first: {seq, from ("client"/"sandbox"), connection, method, type,
        message_id, headers, service, payload (decoded JSON), time}."""
        with self._lock:
            return list(self._frames)

    def client_frames(self, frame_type: str | None = None) -> list[dict[str, Any]]:
        """The frames the client sent (of one header type: "ping", "event", "card")."""
        return [f for f in self.frames if f["from"] == "client" and (frame_type is None or f["type"] == frame_type)]

    @property
    def acks(self) -> list[Ack]:
        with self._lock:
            return list(self._acks)

    def acks_for(self, message_id: str) -> list[Ack]:
        return [a for a in self.acks if a.message_id == message_id]
