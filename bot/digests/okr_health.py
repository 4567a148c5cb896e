"""How a person's OKRs stand: stale, at risk, fine. Pure; shared by reminders and manager digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models import OKR_STATUS_AT_RISK, OKR_STATUS_DELAYED, Okr

RISKY = (OKR_STATUS_AT_RISK, OKR_STATUS_DELAYED)


@dataclass(frozen=True, slots=True)
class Risk:
    kind: str  # "objective" | "kr"
    content: str
    status: str
    progress: int


@dataclass(frozen=True, slots=True)
class OkrHealth:
    has_okr: bool
    visible: bool
    days_since_update: int | None  # None: never updated
    risks: tuple[Risk, ...]
    average_progress: int

    def is_stale(self, stale_days: int) -> bool:
        return self.has_okr and self.visible and (self.days_since_update is None
                                                  or self.days_since_update >= stale_days)


def assess(okrs: tuple[Okr, ...], now: datetime) -> OkrHealth:
    if not okrs or all(not okr.hidden and not okr.objectives for okr in okrs):
        return OkrHealth(has_okr=False, visible=True, days_since_update=None, risks=(), average_progress=0)
    objectives = [o for okr in okrs if not okr.hidden for o in okr.objectives if not o.hidden]
    if not objectives:
        return OkrHealth(has_okr=True, visible=False, days_since_update=None, risks=(), average_progress=0)
    updates = [o.updated_at for o in objectives if o.updated_at]
    updates += [kr.updated_at for o in objectives for kr in o.key_results if kr.updated_at]
    latest = max(updates) if updates else None
    risks = [Risk("objective", o.content, o.status, o.progress) for o in objectives if o.status in RISKY]
    risks += [Risk("kr", kr.content, kr.status, kr.progress)
              for o in objectives for kr in o.key_results if kr.status in RISKY]
    return OkrHealth(
        has_okr=True, visible=True,
        days_since_update=max(0, (now - latest).days) if latest else None,
        risks=tuple(risks),
        average_progress=round(sum(o.progress for o in objectives) / len(objectives)),
    )
