"""OKR progress records written through okr/v1/progress_records, and their effect on the OKRs the sandbox serves.

The seed stays as it was built (it is shared and cached); the records and what they changed are kept here and
laid over the seed's OKR batches when they are read (`overlay`). Per Feishu's "创建 OKR 进展记录" page
(open.feishu.cn/document/server-docs/okr-v1/progress_record/create): a record targets an objective
(target_type 2) or a key result (3); its optional `progress_rate` {percent, status} becomes the target's
progress. Here, a key result's new percent also moves its objective's percent to the weighted average of its key
results (the way the seed computes it); the times are the sandbox clock's. Deleting a record removes its id from
the target's `progress_record_list` and leaves the progress as it is. Thread-safe.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import ids

OBJECTIVE = 2
KEY_RESULT = 3


@dataclass(frozen=True)
class Target:
    """An objective or key result of the seed: what a record may point at."""

    id: str
    kind: int  # OBJECTIVE | KEY_RESULT
    owner_open_id: str
    batch_id: str
    objective_id: str
    visible: bool  # False: the OKR or objective has permission 0 (only the owner sees it)


@dataclass
class Record:
    progress_id: str
    target: Target
    content: dict[str, Any]
    progress_rate: dict[str, Any] | None
    modify_time: int
    source_title: str
    source_url: str
    source_url_pc: str | None = None
    source_url_mobile: str | None = None

    def as_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "progress_id": self.progress_id,
            "modify_time": str(self.modify_time),
            "content": copy.deepcopy(self.content),
        }
        if self.progress_rate is not None:
            data["progress_rate"] = dict(self.progress_rate)
        return data


@dataclass
class _Change:
    """What records did to one objective or key result."""

    percent: int | None = None
    status: str | None = None
    percent_time: int | None = None
    status_time: int | None = None
    record_time: int | None = None
    added: list[str] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)


class ProgressRecords:
    """The progress records of one sandbox instance and the changes they made to the seed's OKRs."""

    def __init__(self, okrs: Callable[[], Mapping[str, tuple[dict[str, Any], ...]]], id_salt: str = "") -> None:
        self._okrs = okrs
        self._salt = id_salt
        self._lock = threading.Lock()
        self._targets: dict[str, Target] | None = None  # built on first use (a 50,000-person seed is large)
        self._records: dict[str, Record] = {}
        self._changes: dict[str, _Change] = {}  # target id -> change
        self._batches: set[str] = set()  # ids of the batches some change touches
        self._seq = 0

    # ---- targets ------------------------------------------------------------------------------------------
    def target(self, target_id: str) -> Target | None:
        with self._lock:
            return self._index().get(target_id)

    def _index(self) -> dict[str, Target]:
        if self._targets is None:
            targets: dict[str, Target] = {}
            for open_id, batches in self._okrs().items():
                for batch in batches:
                    batch_visible = batch.get("permission") != 0
                    for objective in batch.get("objective_list", ()):
                        visible = batch_visible and objective.get("permission") != 0
                        oid = str(objective["id"])
                        targets[oid] = Target(oid, OBJECTIVE, open_id, str(batch["id"]), oid, visible)
                        for kr in objective.get("kr_list", ()):
                            kid = str(kr["id"])
                            targets[kid] = Target(kid, KEY_RESULT, open_id, str(batch["id"]), oid, visible)
            self._targets = targets
        return self._targets

    # ---- records ------------------------------------------------------------------------------------------
    def create(self, target: Target, *, content: dict[str, Any], progress_rate: dict[str, Any] | None,
               now_ms: int, source_title: str, source_url: str, source_url_pc: str | None = None,
               source_url_mobile: str | None = None) -> Record:
        with self._lock:
            self._seq += 1
            progress_id = ids.numeric_id(f"progress:{self._salt}:{self._seq}:{target.id}", prefix=70)
            record = Record(progress_id, target, copy.deepcopy(content), _rate(progress_rate), now_ms,
                            source_title, source_url, source_url_pc, source_url_mobile)
            self._records[progress_id] = record
            change = self._change(target)
            change.added.append(progress_id)
            change.record_time = now_ms
            self._apply_rate(target, record.progress_rate, now_ms)
            return record

    def get(self, progress_id: str) -> Record | None:
        with self._lock:
            return self._records.get(progress_id)

    def update(self, progress_id: str, *, content: dict[str, Any], progress_rate: dict[str, Any] | None,
               now_ms: int) -> Record | None:
        with self._lock:
            record = self._records.get(progress_id)
            if record is None:
                return None
            record.content = copy.deepcopy(content)
            if progress_rate is not None:
                record.progress_rate = _rate(progress_rate)
            record.modify_time = now_ms
            self._change(record.target).record_time = now_ms
            self._apply_rate(record.target, _rate(progress_rate), now_ms)
            return record

    def delete(self, progress_id: str) -> Record | None:
        with self._lock:
            record = self._records.pop(progress_id, None)
            if record is not None:
                change = self._change(record.target)
                if progress_id in change.added:
                    change.added.remove(progress_id)
                change.removed.add(progress_id)
            return record

    def records(self) -> list[Record]:
        """Every record that exists, oldest first."""
        with self._lock:
            return list(self._records.values())

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._changes.clear()
            self._batches.clear()

    def _change(self, target: Target) -> _Change:
        self._batches.add(target.batch_id)
        return self._changes.setdefault(target.id, _Change())

    def _apply_rate(self, target: Target, rate: dict[str, Any] | None, now_ms: int) -> None:
        if rate is None:
            return
        change = self._changes[target.id]
        if "percent" in rate:
            change.percent = round(rate["percent"])
            change.percent_time = now_ms
        if "status" in rate:
            change.status = str(rate["status"])
            change.status_time = now_ms

    # ---- the OKRs as read ---------------------------------------------------------------------------------
    def overlay(self, batch: dict[str, Any]) -> dict[str, Any]:
        """`batch` as records changed it (a copy), or `batch` itself when no record touched it."""
        with self._lock:
            if str(batch.get("id")) not in self._batches:
                return batch
            result = copy.deepcopy(batch)
            for objective in result.get("objective_list", ()):
                krs = objective.get("kr_list", ())
                moved = False
                for kr in krs:
                    moved = self._lay(kr) or moved
                if moved and krs and str(objective.get("id")) not in self._set_directly():
                    weights = [float(kr.get("kr_weight") or kr.get("weight") or 0) for kr in krs]
                    total = sum(weights) or 1.0
                    percent = sum(kr["progress_rate"]["percent"] * w for kr, w in zip(krs, weights, strict=True))
                    objective.setdefault("progress_rate", {})["percent"] = round(percent / total)
                self._lay(objective)
            return result

    def _set_directly(self) -> set[str]:
        return {tid for tid, c in self._changes.items() if c.percent is not None
                and self._targets is not None and self._targets[tid].kind == OBJECTIVE}

    def _lay(self, item: dict[str, Any]) -> bool:
        """Apply the change for one objective / key result in place; True if its percent changed."""
        change = self._changes.get(str(item.get("id")))
        if change is None:
            return False
        rate = item.setdefault("progress_rate", {"percent": 0, "status": "-1"})
        if change.percent is not None:
            rate["percent"] = change.percent
            item["progress_rate_percent_last_updated_time"] = str(change.percent_time)
        if change.status is not None:
            rate["status"] = change.status
            item["progress_rate_status_last_updated_time"] = str(change.status_time)
        if change.record_time is not None:
            item["progress_record_last_updated_time"] = str(change.record_time)
        listed = [r for r in item.get("progress_record_list", []) if str(r.get("id")) not in change.removed]
        item["progress_record_list"] = listed + [{"id": pid} for pid in change.added]
        return change.percent is not None


def _rate(progress_rate: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The record's progress_rate as Feishu answers it: percent (default 0, per the docs) and status if sent."""
    if progress_rate is None:
        return None
    rate: dict[str, Any] = {"percent": progress_rate.get("percent", 0)}
    if progress_rate.get("status") is not None:
        rate["status"] = progress_rate["status"]
    return rate
