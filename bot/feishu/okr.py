"""OKR API (okr/v1): periods and a user's OKRs, paged, rate-limited (100/minute), cached; progress records
written (okr/v1/progress_records, the same 100/minute), each dropping the writer's cached OKRs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cachetools import TTLCache
from lark_oapi.api.okr.v1 import (
    ContentBlock,
    ContentBlockElement,
    ContentParagraph,
    ContentParagraphElement,
    ContentTextRun,
    CreateProgressRecordRequest,
    CreateProgressRecordRequestBody,
    ListPeriodRequest,
    ListUserOkrRequest,
    ProgressRateNew,
)

from bot.feishu.caller import ApiCaller
from bot.feishu.ratelimit import Limiter
from bot.models import (
    OKR_STATUS_AT_RISK,
    OKR_STATUS_DELAYED,
    OKR_STATUS_NONE,
    OKR_STATUS_NORMAL,
    KeyResult,
    Objective,
    Okr,
    OkrPeriod,
)

OKR_PAGE_LIMIT = 10  # documented maximum of `limit`
PERIOD_PAGE_SIZE = 100
_STATUS = {"-1": OKR_STATUS_NONE, "0": OKR_STATUS_NORMAL, "1": OKR_STATUS_AT_RISK, "2": OKR_STATUS_DELAYED}
STATUS_CODES = {v: int(k) for k, v in _STATUS.items()}  # progress_rate.status of a progress record
TARGET_TYPES = {"objective": 2, "key_result": 3}  # target_type of a progress record
SOURCE_TITLE = {"zh_cn": "OKR 助手", "en_us": "OKR bot"}
MAX_NOTE = 500  # characters of a check-in's note written to Feishu


def _ms(value: Any) -> datetime | None:
    """Feishu sends epoch milliseconds, as numbers or strings; 0 or nothing means unset."""
    try:
        ms = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms > 0 else None


def _status(progress: Any) -> tuple[int, str]:
    if progress is None:
        return 0, OKR_STATUS_NONE
    return int(progress.percent or 0), _STATUS.get(str(progress.status), OKR_STATUS_NONE)


def to_content_block(text: str) -> ContentBlock:
    """Feishu's rich-text content of a progress record: one paragraph of plain text."""
    run = ContentTextRun.builder().text(text).build()
    element = ContentParagraphElement.builder().type("textRun").text_run(run).build()
    paragraph = ContentParagraph.builder().elements([element]).build()
    return ContentBlock.builder().blocks([ContentBlockElement.builder().type("paragraph").paragraph(paragraph)
                                         .build()]).build()


def to_key_result(kr: Any) -> KeyResult:
    percent, status = _status(kr.progress_rate)
    weight = kr.kr_weight if kr.kr_weight is not None else kr.weight
    return KeyResult(
        id=str(kr.id or ""), content=kr.content or "", progress=percent, status=status,
        score=kr.score, weight=float(weight) if weight is not None else None,
        deadline=_ms(kr.deadline), updated_at=_ms(kr.progress_rate_percent_last_updated_time),
    )


def to_objective(obj: Any) -> Objective:
    if obj.permission == 0:
        return Objective(id=str(obj.id or ""), content="", progress=0, status=OKR_STATUS_NONE, hidden=True)
    percent, status = _status(obj.progress_rate)
    return Objective(
        id=str(obj.id or ""), content=obj.content or "", progress=percent, status=status, score=obj.score,
        weight=float(obj.weight) if obj.weight is not None else None, deadline=_ms(obj.deadline),
        updated_at=_ms(obj.progress_rate_percent_last_updated_time),
        key_results=tuple(to_key_result(kr) for kr in obj.kr_list or ()),
    )


def to_okr(batch: Any) -> Okr:
    if batch.permission == 0:
        return Okr(id=str(batch.id or ""), period_id=str(batch.period_id or ""), name="", hidden=True)
    return Okr(
        id=str(batch.id or ""), period_id=str(batch.period_id or ""), name=batch.name or "",
        objectives=tuple(to_objective(o) for o in batch.objective_list or ()),
    )


def to_period(item: Any) -> OkrPeriod | None:
    start, end = _ms(item.period_start_time), _ms(item.period_end_time)
    if start is None or end is None or item.status not in (0, None):  # 1/2 invalid, 3 hidden
        return None
    return OkrPeriod(id=str(item.id), zh_name=item.zh_name or "", en_name=item.en_name or "", start=start, end=end)


class OkrClient:
    def __init__(self, caller: ApiCaller, *, limiter: Limiter, ttl: float = 120.0,
                 period_ttl: float = 3600.0, timer: Callable[[], float] | None = None) -> None:
        self._caller = caller
        self._api = caller.client.okr.v1
        self._limiter = limiter
        kwargs = {"timer": timer} if timer else {}
        self._okr_cache: TTLCache[tuple[str, str, str], tuple[Okr, ...]] = TTLCache(maxsize=20_000, ttl=ttl, **kwargs)
        self._period_cache: TTLCache[str, tuple[OkrPeriod, ...]] = TTLCache(maxsize=1, ttl=period_ttl, **kwargs)
        self._okr_lock = threading.Lock()
        self._period_lock = threading.Lock()

    def list_periods(self) -> tuple[OkrPeriod, ...]:
        """Every visible period, oldest first, every page followed."""
        with self._period_lock:
            cached = self._period_cache.get("all")
            if cached is not None:
                return cached
            def build(page_token: str):
                builder = ListPeriodRequest.builder().page_size(PERIOD_PAGE_SIZE)
                return (builder.page_token(page_token) if page_token else builder).build()

            periods = [p for data in self._caller.pages("okr.period.list", self._api.period.list, build,
                                                        limiter=self._limiter)
                       for p in (to_period(i) for i in data.items or ()) if p]
            result = tuple(sorted(periods, key=lambda p: p.start))
            self._period_cache["all"] = result
            return result

    def list_user_okrs(self, open_id: str, *, period_ids: tuple[str, ...] = (), lang: str = "zh_cn",
                       fresh: bool = False) -> tuple[Okr, ...]:
        """A person's OKRs (for the given periods, at most 10), reading every page (`limit` ≤ 10)."""
        key = (open_id, ",".join(period_ids), lang)
        if not fresh:
            with self._okr_lock:
                cached = self._okr_cache.get(key)
            if cached is not None:
                return cached
        okrs: list[Okr] = []
        offset = 0
        while True:
            builder = (
                ListUserOkrRequest.builder().user_id(open_id).user_id_type("open_id").offset(str(offset))
                .limit(str(OKR_PAGE_LIMIT)).lang(lang)
            )
            if period_ids:
                builder = builder.period_ids(list(period_ids[:10]))
            resp = self._caller.call("okr.user_okr.list", self._api.user_okr.list, builder.build(),
                                     limiter=self._limiter)
            data = resp.data
            page = (data.okr_list if data else None) or []
            okrs.extend(to_okr(b) for b in page)
            offset += len(page)
            total = int((data.total if data else 0) or 0)
            if not page or offset >= total:
                break
        result = tuple(okrs)
        with self._okr_lock:
            self._okr_cache[key] = result
        return result

    def create_progress_record(self, target_id: str, target_type: str, percent: int, status: str, note: str, *,
                               owner_open_id: str, source_url: str, locale: str = "zh_cn") -> str:
        """Write one progress record on an objective or key result (`target_type` "objective" | "key_result";
        `status` one of the OKR_STATUS_* values) and drop `owner_open_id`'s cached OKRs, so the next read
        shows it. The record's id. Checking that the writer owns the target is the caller's job."""
        if target_type not in TARGET_TYPES:
            raise ValueError(f"unknown target type {target_type!r}")
        if not 0 <= percent <= 100:
            raise ValueError(f"percent {percent} is not in 0..100")
        text = note.strip()[:MAX_NOTE] or (
            f"进度更新为 {percent}%" if locale == "zh_cn" else f"Progress updated to {percent}%")
        body = (
            CreateProgressRecordRequestBody.builder()
            .source_title(SOURCE_TITLE.get(locale, SOURCE_TITLE["zh_cn"])).source_url(source_url)
            .target_id(int(target_id)).target_type(TARGET_TYPES[target_type])
            .content(to_content_block(text))
            .progress_rate(ProgressRateNew.builder().percent(float(percent))
                           .status(STATUS_CODES.get(status, STATUS_CODES[OKR_STATUS_NONE])).build())
            .build()
        )
        request = CreateProgressRecordRequest.builder().user_id_type("open_id").request_body(body).build()
        try:
            resp = self._caller.call("okr.progress_record.create", self._api.progress_record.create, request,
                                     limiter=self._limiter, idempotent=False)  # a retried 5xx could write twice
        finally:  # even a failed write may have landed: read afresh next time
            self.forget(owner_open_id)
        return str(resp.data.progress_id or "") if resp.data else ""

    def forget(self, open_id: str) -> None:
        """Drop every cached OKR list of one person (each period and language)."""
        with self._okr_lock:
            for key in [k for k in self._okr_cache if k[0] == open_id]:
                self._okr_cache.pop(key, None)
