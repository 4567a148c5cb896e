"""OKR periods and per-person OKRs, generated deterministically relative to the anchor date.

OKR batches are stored close to the okr-v1-user-okr-list.md response shape. Text fields that depend on the
`lang` query parameter carry an extra `*_en` twin (`name_en`, `content_en`) that the API layer resolves.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from . import ids
from .records import Period, Person
from .timeutil import day_ms

RNG_SEED = 20261125
STATUSES = ("-1", "0", "1", "2")  # none / normal / at risk / delayed

_POOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "root": (
        ("实现年度营收目标 1 亿元", "Hit the ¥100M annual revenue target"),
        ("打造高绩效组织", "Build a high-performance organisation"),
        ("完成 B 轮融资", "Close the Series B round"),
    ),
    "eng": (
        ("建设统一的研发效能平台", "Build a unified engineering-productivity platform"),
        ("提升线上服务稳定性到 99.95%", "Raise production availability to 99.95%"),
        ("培养技术梯队", "Grow the next line of tech leads"),
    ),
    "backend": (
        ("完成支付系统微服务重构", "Finish the payments microservice refactor"),
        ("提升线上服务稳定性到 99.95%", "Raise production availability to 99.95%"),
        ("降低云资源成本 20%", "Cut cloud spend by 20%"),
        ("建设可观测性平台", "Build the observability platform"),
    ),
    "frontend": (
        ("重构设计系统组件库", "Rebuild the design-system component library"),
        ("首屏加载时间降低 40%", "Cut first-paint time by 40%"),
        ("发布移动端 3.0", "Ship mobile app 3.0"),
    ),
    "product": (
        ("发布 OKR 助手 2.0", "Launch OKR assistant 2.0"),
        ("提升新用户留存", "Improve new-user retention"),
        ("建立数据驱动的决策流程", "Make product decisions data-driven"),
    ),
    "design": (
        ("统一品牌视觉规范", "Unify the brand visual guidelines"),
        ("提升设计交付效率", "Speed up design delivery"),
    ),
    "marketing": (
        ("提升品牌知名度", "Grow brand awareness"),
        ("获取 500 条有效销售线索", "Generate 500 qualified sales leads"),
        ("办好年度用户大会", "Run a great annual user conference"),
    ),
    "hr": (
        ("完成 Q4 招聘计划", "Deliver the Q4 hiring plan"),
        ("提升员工满意度", "Raise employee satisfaction"),
        ("上线新版绩效流程", "Roll out the new performance-review process"),
    ),
    "finance": (
        ("完成年度预算编制", "Finish the annual budget"),
        ("缩短月结周期", "Shorten the month-end close"),
    ),
}

_KR_POOLS: dict[str, tuple[tuple[str, str], ...]] = {
    "root": (
        ("签约 30 家标杆客户", "Sign 30 reference customers"),
        ("核心人才保留率 ≥ 95%", "Key-talent retention ≥ 95%"),
        ("毛利率提升到 60%", "Gross margin up to 60%"),
    ),
    "eng": (
        ("P0 故障数为 0", "Zero P0 incidents"),
        ("CI 平均时长 < 10 分钟", "Average CI time < 10 min"),
        ("完成 12 次技术分享", "Hold 12 tech talks"),
    ),
    "backend": (
        ("P0 故障数为 0", "Zero P0 incidents"),
        ("核心接口 P99 延迟 < 200ms", "P99 latency of core APIs < 200 ms"),
        ("完成 80% 服务迁移", "Migrate 80% of services"),
        ("单元测试覆盖率达到 75%", "Reach 75% unit-test coverage"),
        ("上线全链路追踪", "Ship end-to-end tracing"),
        ("月度云账单下降 20%", "Monthly cloud bill down 20%"),
    ),
    "frontend": (
        ("Lighthouse 分数 ≥ 90", "Lighthouse score ≥ 90"),
        ("组件库覆盖 100% 页面", "Component library used on 100% of pages"),
        ("崩溃率 < 0.1%", "Crash rate < 0.1%"),
        ("首屏时间 < 1.5 秒", "First paint < 1.5 s"),
    ),
    "product": (
        ("次月留存提升到 45%", "Month-2 retention up to 45%"),
        ("完成 20 场用户访谈", "Run 20 user interviews"),
        ("NPS ≥ 40", "NPS ≥ 40"),
        ("上线 3 个核心功能", "Ship 3 core features"),
    ),
    "design": (
        ("输出 3 套设计规范", "Publish 3 design specs"),
        ("设计评审周期 < 3 天", "Design review turnaround < 3 days"),
        ("完成 10 次可用性测试", "Run 10 usability tests"),
    ),
    "marketing": (
        ("举办 4 场线下活动", "Host 4 offline events"),
        ("官网流量增长 50%", "Website traffic +50%"),
        ("线索转化率 ≥ 15%", "Lead conversion ≥ 15%"),
        ("社媒粉丝突破 10 万", "100k social followers"),
    ),
    "hr": (
        ("入职 15 名工程师", "Onboard 15 engineers"),
        ("满意度调研得分 ≥ 4.5", "Satisfaction survey score ≥ 4.5"),
        ("完成 100% 新人培训", "100% of new hires trained"),
    ),
    "finance": (
        ("月结在 5 个工作日内完成", "Close the books within 5 working days"),
        ("预算偏差 < 5%", "Budget variance < 5%"),
        ("完成 2 次内审", "Complete 2 internal audits"),
    ),
}

_WEIGHT_SPLITS: dict[int, tuple[float, ...]] = {
    1: (100.0,),
    2: (60.0, 40.0),
    3: (40.0, 30.0, 30.0),
    4: (25.0, 25.0, 25.0, 25.0),
}

# A deliberately hostile objective (markdown / HTML / mention characters) for escaping tests.
HOSTILE_OBJECTIVE = (
    "Ship **v2** of <Dashboard> & fix _all_ [bugs](http://evil.example) <at id=all></at>",
    "Ship **v2** of <Dashboard> & fix _all_ [bugs](http://evil.example) <at id=all></at>",
)


def build_periods(anchor: date) -> tuple[Period, ...]:
    """Quarter periods: one older, the previous, the current (containing the anchor) and the next one."""
    quarter_start_month = (anchor.month - 1) // 3 * 3 + 1
    current_start = date(anchor.year, quarter_start_month, 1)
    starts = []
    for offset in (-2, -1, 0, 1):
        month_index = current_start.month - 1 + 3 * offset
        starts.append(date(current_start.year + month_index // 12, month_index % 12 + 1, 1))
    keys = ("older", "previous", "current", "next")
    periods = []
    for key, start in zip(keys, starts, strict=True):
        end_month_index = start.month - 1 + 3
        next_start = date(start.year + end_month_index // 12, end_month_index % 12 + 1, 1)
        last_month = next_start - timedelta(days=1)
        periods.append(
            Period(
                key=key,
                id=ids.numeric_id(f"period:{start.isoformat()}"),
                zh_name=f"{start.year} 年 {start.month} 月 - {last_month.month} 月",
                en_name=f"{start.strftime('%b')} - {last_month.strftime('%b')} {start.year}",
                status=0,
                start_ms=day_ms(start),
                end_ms=day_ms(next_start) - 1,
            )
        )
    return tuple(periods)


def _owner(person: Person) -> dict[str, str]:
    return {"open_id": person.open_id, "user_id": person.user_id}


def _mention_suffix(person: Person) -> tuple[str, str]:
    return f"，协同 @{person.name}", f" (with @{person.en_name})"


class _Peers(Sequence[Person]):
    """`members` without the one at `skip`, then `extra`: the list the colleague is chosen from, unbuilt."""

    def __init__(self, members: list[Person], skip: int | None, extra: Person | None) -> None:
        self.members, self.skip, self.extra = members, skip, extra

    def __len__(self) -> int:
        return len(self.members) - (self.skip is not None) + (self.extra is not None)

    def __getitem__(self, index):  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(index)
        if self.extra is not None and index == len(self) - 1:
            return self.extra
        return self.members[index + (self.skip is not None and index >= self.skip)]


class _OkrBuilder:
    def __init__(self, people: Sequence[Person], periods: Sequence[Period], anchor: date) -> None:
        self.people = [p for p in people if p.in_contact]
        self.by_key = {p.key: p for p in self.people}
        # active people by department, in order, and each one's place in that list: a colleague is
        # picked without scanning the whole company (a 50,000-person seed builds in seconds)
        self.active_by_department: dict[str, list[Person]] = {}
        self.place: dict[str, int] = {}
        for p in self.people:
            if p.is_active:
                members = self.active_by_department.setdefault(p.department_key, [])
                self.place[p.key] = len(members)
                members.append(p)
        self.periods = {p.key: p for p in periods}
        self.anchor = anchor
        self.rng = random.Random(RNG_SEED)
        self.status_cycle = 0
        # (period key, person key) -> list of objective dicts, used to wire alignments
        self.objectives: dict[tuple[str, str], list[dict[str, object]]] = {}
        self.okr_ids: dict[tuple[str, str], str] = {}

    def _next_status(self) -> str:
        status = STATUSES[self.status_cycle % len(STATUSES)]
        self.status_cycle += 1
        # mostly "0" (normal), cycling through the others deterministically
        return status if self.rng.random() < 0.12 else "0"

    def _colleague(self, person: Person) -> Person | None:
        """Someone active in the same department, or the person's leader."""
        leader = self.by_key.get(person.leader_key) if person.leader_key else None
        peers = _Peers(self.active_by_department.get(person.department_key, []), self.place.get(person.key), leader)
        return self.rng.choice(peers) if len(peers) else None

    def _times(self, period: Period, key: str) -> dict[str, str]:
        if period.key == "current":
            days_ago = 1 + int(ids.short_hex(key, 6), 16) % 30  # spread 1..30 days before the anchor
            updated = day_ms(self.anchor - timedelta(days=days_ago), 10) + int(
                ids.short_hex(key + "m", 4), 16
            )
            return {
                "progress_rate_percent_last_updated_time": str(updated),
                "progress_rate_status_last_updated_time": str(updated),
                "progress_record_last_updated_time": str(updated + 60_000),
                "progress_report_last_updated_time": "0",
                "score_last_updated_time": "0",
            }
        if period.key == "next":
            return {
                name: "0"
                for name in (
                    "progress_rate_percent_last_updated_time",
                    "progress_rate_status_last_updated_time",
                    "progress_record_last_updated_time",
                    "progress_report_last_updated_time",
                    "score_last_updated_time",
                )
            }
        late = period.end_ms - (1 + int(ids.short_hex(key, 4), 16) % 6) * 86_400_000
        return {
            "progress_rate_percent_last_updated_time": str(late),
            "progress_rate_status_last_updated_time": str(late),
            "progress_record_last_updated_time": str(late + 120_000),
            "progress_report_last_updated_time": str(late + 180_000),
            "score_last_updated_time": str(period.end_ms + 7 * 86_400_000),
        }

    def _kr(
        self, person: Person, period: Period, obj_key: str, index: int, weight: float, text: tuple[str, str]
    ) -> dict[str, object]:
        key = f"{obj_key}:kr{index}"
        scored = period.key in ("older", "previous")
        percent = self.rng.randint(40, 100) if scored else self.rng.choice((0, 10, 20, 35, 50, 65, 80, 100))
        if period.key == "next":
            percent = 0
        mention = None
        if self.rng.random() < 0.15:
            mention = self._colleague(person)
        content, content_en = text
        if mention is not None:
            zh, en = _mention_suffix(mention)
            content, content_en = content + zh, content_en + en
        kr: dict[str, object] = {
            "id": ids.numeric_id(key),
            "content": content,
            "content_en": content_en,
            "score": percent if scored else 0,
            "weight": round(weight),
            "kr_weight": weight,
            "progress_rate": {
                "percent": percent,
                "status": "-1" if period.key == "next" else self._next_status(),
            },
            "progress_record_list": [{"id": ids.numeric_id(key + ":rec")}] if percent else [],
            "deadline": str(period.end_ms - (index % 2) * 14 * 86_400_000),
            "mentioned_user_list": [_owner(mention)] if mention else [],
        }
        kr.update(self._times(period, key))
        return kr

    def _objective(
        self, person: Person, period: Period, index: int, weight: float, text: tuple[str, str], okr_id: str
    ) -> dict[str, object]:
        obj_key = f"okr:{period.key}:{person.key}:o{index}"
        pool = _KR_POOLS.get(person.department_key, _KR_POOLS["eng"])
        kr_count = 2 + self.rng.randint(0, 2)
        kr_texts = [pool[(index + i) % len(pool)] for i in range(kr_count)]
        splits = _WEIGHT_SPLITS[kr_count]
        krs = [self._kr(person, period, obj_key, i, splits[i], kr_texts[i]) for i in range(kr_count)]
        percent = round(sum(kr["progress_rate"]["percent"] * kr["kr_weight"] for kr in krs) / 100)  # type: ignore[index]
        content, content_en = text
        mention = None
        if person.key == "cto" and period.key == "current" and index == 0:
            mention = self.by_key.get("lixing")  # guarantees the tricky name shows up in OKR content
        elif self.rng.random() < 0.3:
            mention = self._colleague(person)
        if mention is not None:
            zh, en = _mention_suffix(mention)
            content, content_en = content + zh, content_en + en
        scored = period.key in ("older", "previous")
        report = ""
        if period.key != "next" and self.rng.random() < 0.5:
            report = self.rng.choice(
                ("按计划推进中", "本周完成了方案评审", "依赖外部团队，存在风险", "已完成一半")
            )
        objective: dict[str, object] = {
            "id": ids.numeric_id(obj_key),
            "permission": 1,
            "content": content,
            "content_en": content_en,
            "progress_report": report,
            "score": round(sum(kr["score"] * kr["kr_weight"] for kr in krs) / 100) if scored else 0,  # type: ignore[operator]
            "weight": weight,
            "progress_rate": {
                "percent": percent,
                "status": "-1" if period.key == "next" else self._next_status(),
            },
            "kr_list": krs,
            "aligned_objective_list": [],
            "aligning_objective_list": [],
            "progress_record_list": [{"id": ids.numeric_id(obj_key + ":rec")}] if percent else [],
            "deadline": str(period.end_ms),
            "mentioned_user_list": [_owner(mention)] if mention else [],
            "_okr_id": okr_id,
        }
        objective.update(self._times(period, obj_key))
        return objective

    def _batch(self, person: Person, period: Period) -> dict[str, object]:
        okr_key = f"okr:{period.key}:{person.key}"
        okr_id = ids.numeric_id(okr_key)
        pool = _POOLS.get(person.department_key, _POOLS["eng"])
        count = 2 if len(pool) < 3 or self.rng.random() < 0.5 else 3
        texts = [pool[(i + len(person.key)) % len(pool)] for i in range(count)]
        if person.key == "alex" and period.key == "current":
            texts[0] = HOSTILE_OBJECTIVE
        splits = _WEIGHT_SPLITS[count]
        objectives = [self._objective(person, period, i, splits[i], texts[i], okr_id) for i in range(count)]
        if person.key == "guofang" and period.key == "current":
            # one confidential objective: only its id is visible
            objectives.append({"id": ids.numeric_id(okr_key + ":secret"), "permission": 0, "_okr_id": okr_id})
        self.objectives[(period.key, person.key)] = objectives
        self.okr_ids[(period.key, person.key)] = okr_id
        confirm = 4
        selector = int(ids.short_hex(okr_key, 4), 16)
        if period.key == "next":
            confirm = 1
        elif period.key == "current" and selector % 7 == 0:
            confirm = 2
        elif period.key == "current" and selector % 11 == 0:
            confirm = 1
        batch: dict[str, object] = {
            "id": okr_id,
            "permission": 0 if "hidden-okr" in person.tags else 1,
            "period_id": period.id,
            "name": period.zh_name,
            "name_en": period.en_name,
            "objective_list": objectives,
            "confirm_status": confirm,
        }
        return batch

    def _wire_alignments(self) -> None:
        for (period_key, person_key), objectives in self.objectives.items():
            person = self.by_key[person_key]
            if not person.leader_key or not objectives:
                continue
            leader_objectives = self.objectives.get((period_key, person.leader_key))
            if not leader_objectives:
                continue
            mine, theirs = objectives[0], leader_objectives[0]
            if mine.get("permission") != 1 or theirs.get("permission") != 1:
                continue
            leader = self.by_key[person.leader_key]
            mine["aligning_objective_list"].append(  # type: ignore[union-attr]
                {"id": theirs["id"], "okr_id": theirs["_okr_id"], "owner": _owner(leader)}
            )
            theirs["aligned_objective_list"].append(  # type: ignore[union-attr]
                {"id": mine["id"], "okr_id": mine["_okr_id"], "owner": _owner(person)}
            )

    def build(self) -> dict[str, tuple[dict[str, object], ...]]:
        result: dict[str, list[dict[str, object]]] = {}
        for person in self.people:
            if "no-okr" in person.tags:
                result[person.open_id] = []
                continue
            wanted = ["previous", "current"]
            if person.key in ("ceo", "cto"):
                wanted = ["older", "previous", "current", "next"]
            if person.is_resigned:
                wanted = ["previous"]
            if person.hire_date > _iso(self.anchor - timedelta(days=60)):
                wanted = ["current"]  # recent joiners only have current-period OKRs
            batches = [self._batch(person, self.periods[key]) for key in wanted]
            batches.sort(key=lambda b: self._period_start(str(b["period_id"])), reverse=True)
            result[person.open_id] = batches
        self._wire_alignments()
        for batches in result.values():
            for batch in batches:
                for objective in batch["objective_list"]:  # type: ignore[union-attr]
                    objective.pop("_okr_id", None)
        return {open_id: tuple(batches) for open_id, batches in result.items()}

    def _period_start(self, period_id: str) -> int:
        for period in self.periods.values():
            if period.id == period_id:
                return period.start_ms
        return 0


def _iso(day: date) -> str:
    return day.isoformat()


FRESHNESS = ("test", "realistic")


def build_okrs(
    people: Sequence[Person], periods: Sequence[Period], anchor: date, *, freshness: str = "test",
    as_of: date | None = None,
) -> dict[str, tuple[dict[str, object], ...]]:
    """Map open_id -> OKR batches (newest period first).

    freshness="test" (the tests' seed): current-period updates spread over the 30 days before the anchor and
    about one item in eight not "normal", so tests find every case. freshness="realistic" (the demo's): a team as
    it looks in real life on `as_of` (default the anchor): most people updated their OKRs 1-4 days before, the
    few in REALISTIC_STALE 9-18 days before, the few in REALISTIC_AT_RISK have one key result at risk or delayed,
    everything else is normal. Only the current period changes; the rest is the same as the tests' seed."""
    if freshness not in FRESHNESS:
        raise ValueError(f"freshness must be one of {FRESHNESS}, not {freshness!r}")
    okrs = _OkrBuilder(people, periods, anchor).build()
    if freshness == "realistic":
        current = next(p for p in periods if p.key == "current")
        _make_realistic(okrs, people, current, as_of or anchor)
    return okrs


# The realistic seed's exceptions, by seed key: whose last update is that many days old (stale), and who has one
# key result at risk ("1") or delayed ("2"). Everyone else updated 1-4 days before and is on track.
REALISTIC_STALE: dict[str, int] = {
    "zhulei": 12, "cuijian": 9, "liangyu": 15, "liufang": 18,  # 研发周会: 4 of 30 (刘芳 is on leave)
    "caoyang": 10, "panting": 11, "qinlan": 16, "shilei": 13,
}
REALISTIC_AT_RISK: dict[str, str] = {"wanglei": "1", "sunli": "2", "yuanye": "1", "tianye": "2"}


def _make_realistic(okrs: dict[str, tuple[dict[str, object], ...]], people: Sequence[Person], period: Period,
                    as_of: date) -> None:
    """Rewrite the current period's update times and statuses in place (the batches were just built here)."""
    last_day = date.fromtimestamp(period.end_ms / 1000)
    as_of = min(as_of, last_day)
    for person in people:
        for batch in okrs.get(person.open_id, ()):
            if batch["period_id"] != period.id:
                continue
            days = REALISTIC_STALE.get(person.key, 1 + int(ids.short_hex("fresh:" + person.key, 4), 16) % 4)
            latest = day_ms(as_of - timedelta(days=days), 10) + int(ids.short_hex("at:" + person.key, 4), 16)
            objectives: list[dict[str, Any]] = list(batch["objective_list"])  # type: ignore[call-overload]
            items = [item for o in objectives for item in (o, *o.get("kr_list", ()))]
            for index, item in enumerate(items):
                if "progress_rate" not in item:
                    continue  # a confidential objective: only its id
                # the first item carries the latest update; the others are up to three days older
                earlier = 0 if index == 0 else int(ids.short_hex(f"ago:{item['id']}", 6), 16) % (72 * 3_600_000)
                updated = latest - earlier
                item["progress_rate_percent_last_updated_time"] = str(updated)
                item["progress_rate_status_last_updated_time"] = str(updated)
                item["progress_record_last_updated_time"] = str(updated + 60_000)
                item["progress_rate"] = {**item["progress_rate"], "status": "0"}  # type: ignore[dict-item]
            if person.key in REALISTIC_AT_RISK and objectives and "progress_rate" in objectives[0]:
                krs = objectives[0].get("kr_list") or [objectives[0]]
                krs[-1]["progress_rate"]["status"] = REALISTIC_AT_RISK[person.key]
