"""roster: who may see it, the filters, paging, private delivery in groups, and the field allow-list."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from bot.feishu.snapshot import metadata as snapshot_tables
from bot.inbound import InlineExecutor
from bot.transports.webhook import create_app
from devkit.cardcheck import assert_valid_card
from tests.conftest import NOW, Chat, card_title


@pytest.fixture
def hr_chat(settings, sandbox):
    """A bot whose BOT_ADMINS is the head of HR, 郭芳."""
    admin = sandbox.seed.person("guofang").open_id
    app = create_app(settings.with_(admins=frozenset({admin})), executor=InlineExecutor(), clock=lambda: NOW)
    return Chat(app.test_client(), sandbox, settings)


def _names(entry):
    [table] = [e for e in entry["content"]["body"]["elements"] if e["tag"] == "table"]
    return [row["name"].split(" &#40;")[0] for row in table["rows"]]


def test_admin_sees_everyone_currently_employed(hr_chat, sandbox):
    [entry] = hr_chat.say("郭芳", "花名册")
    assert_valid_card(entry["content"])
    assert card_title(entry) == "花名册"
    employed = [e for e in sandbox.seed.employees if e["system_fields"]["status"] in (2, 4)]
    assert f"共 {len(employed)} 人" in hr_chat.text_of(entry)


def test_roster_filters(hr_chat, sandbox, settings):
    today = NOW.date()
    people = {p.name: p for p in sandbox.seed.all_people}
    [leaving] = hr_chat.say("郭芳", "roster leaving")
    assert card_title(leaving) == "Roster: leaving"
    expected = sorted(p.name for p in sandbox.seed.all_people if p.ehr_status == 4)
    assert sorted(_names(leaving)) == expected
    [new] = hr_chat.say("郭芳", "roster new")
    for name in _names(new):
        hired = date.fromisoformat(people[name].hire_date)
        assert today - timedelta(days=30) <= hired <= today
    [probation] = hr_chat.say("郭芳", "roster probation")
    for name in _names(probation):
        due = date.fromisoformat(people[name].conversion_date)
        assert today <= due <= today + timedelta(days=30)
    [everyone] = hr_chat.say("郭芳", "roster all")
    assert "待入职" in hr_chat.text_of(everyone) or "Pre-hire" in hr_chat.text_of(everyone)


def test_roster_by_department_includes_sub_departments(hr_chat, sandbox):
    [entry] = hr_chat.say("郭芳", "roster dept Engineering")
    names = set(_names(entry))
    assert {"王磊", "刘洋", "陈立"} <= names  # 后端组 and 前端组 sit under 研发部
    assert "何静" not in names
    [entry] = hr_chat.say("郭芳", "花名册 后端组")
    assert set(_names(entry)) == {p.name for p in sandbox.seed.members_of("backend")}


def test_a_manager_sees_only_their_reports(hr_chat, sandbox):
    [entry] = hr_chat.say("王磊", "花名册")
    names = set(_names(entry))
    reports = {p.name for p in sandbox.seed.people if p.leader_key == "wanglei" and p.ehr_status in (2, 4)}
    assert names == reports
    assert "只显示你的直接和间接下属" in hr_chat.text_of(entry)
    [entry] = hr_chat.say("陈立", "roster all")  # the CTO: direct and indirect reports
    assert "刘芳" in _names(entry) and "周星河" not in _names(entry)


def test_everyone_else_is_politely_refused(hr_chat, sandbox):
    [entry] = hr_chat.say("刘芳", "花名册")
    assert card_title(entry) == "无法查看"
    assert "管理员" in hr_chat.text_of(entry)


def test_in_a_group_the_roster_goes_to_the_asker_alone(hr_chat, sandbox):
    entries = hr_chat.say("郭芳", "roster", group="all_hands")
    admin = sandbox.seed.person("guofang")
    private = [e for e in entries if e["receive_id"] == admin.open_id]
    public = [e for e in entries if e is not private[0]]
    assert len(private) == 1 and card_title(private[0]) == "Roster"
    assert len(public) == 1 and card_title(public[0]) == "Sent to you privately"
    assert "table" not in str(public[0]["content"])


def test_paging_buttons_and_a_click_by_someone_not_allowed(hr_chat, sandbox):
    [entry] = hr_chat.say("郭芳", "花名册 全部")
    assert "第 1/3 页" in hr_chat.text_of(entry)
    status, answer = hr_chat.click("郭芳", entry, "下一页")
    assert "第 2/3 页" in str(answer["card"]["data"])
    status, answer = hr_chat.click("刘芳", entry, "下一页")
    assert "card" not in answer and answer["toast"]["type"] == "warning"


def test_ehr_pages_are_all_read(hr_chat, sandbox):
    sandbox.state.page_cap = 7
    mark = len(sandbox.state.requests.entries())
    [entry] = hr_chat.say("郭芳", "花名册 全部")
    pages = [r for r in sandbox.state.requests.entries()[mark:] if r["path"] == "/open-apis/ehr/v1/employees"]
    assert len(pages) == -(-len(sandbox.seed.employees) // 7)
    assert all(int(r["query"]["page_size"][0]) <= 100 for r in pages)
    assert f"共 {len(sandbox.seed.employees)} 人" in hr_chat.text_of(entry)


def test_ehr_not_enabled_is_explained(hr_chat, sandbox):
    sandbox.state.faults.inject("/open-apis/ehr/v1/employees", times=None, http_status=400, code=1241004,
                               msg="not enabled")
    [entry] = hr_chat.say("郭芳", "花名册")
    assert "飞书人事（标准版）" in hr_chat.text_of(entry) and "1241004" in hr_chat.text_of(entry)


def test_sensitive_roster_fields_never_leave_the_api_layer(hr_chat, sandbox, caplog):
    secrets = sandbox.seed.sensitive_values()
    assert len(secrets) > 50  # the seed really carries ID numbers, accounts, addresses, contacts...
    caplog.set_level(logging.DEBUG)
    entries = []
    for text in ("roster all", "roster new", "roster leaving", "roster probation", "花名册 后端组"):
        entries += hr_chat.say("郭芳", text)
    app = hr_chat.client.application
    roster = app.extensions["bot"].clients.roster
    with roster._snapshots.begin() as conn:  # the roster snapshot and every other snapshot table in SQL
        stored = repr([list(conn.execute(table.select())) for table in snapshot_tables.sorted_tables])
    employees = roster.list_employees()
    seen = {
        "cards": repr([e["content"] for e in entries]),
        "logs": "\n".join(r.getMessage() for r in caplog.records),
        "database": stored,
        "models": repr(employees),
    }
    for where, text in seen.items():
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"sensitive values in {where}: {leaked[:3]}"
    assert set(employees[0].__slots__) == {
        "open_id", "name", "en_name", "department_id", "job", "job_level", "work_location", "employee_type",
        "status", "hire_date", "conversion_date", "last_day", "manager_user_id", "manager_name"}


# -- filters both ways: everyone qualifying is shown, and no one else -------------------------------------------
# The expected set is computed from the sandbox seed's raw EHR records with each filter's rule; the card is read
# across all its pages.

def _all_names(chat, as_person, entry) -> list[str]:
    from devkit.cardtext import buttons_of

    def next_label(card) -> str | None:
        return next((b["text"]["content"] for b in buttons_of(card)
                     if b["text"]["content"] in ("下一页", "Next") and not b.get("disabled")), None)

    def names(card) -> list[str]:
        return _names({"content": card}) if any(e["tag"] == "table" for e in card["body"]["elements"]) else []

    cards = [entry["content"]]
    while (label := next_label(cards[-1])) is not None:
        status, answer = chat.click(as_person, {**entry, "content": cards[-1]}, label)
        assert status == 200 and "card" in answer, answer
        cards.append(answer["card"]["data"])
    return [name for card in cards for name in names(card)]


def _subtree(sandbox, key: str) -> set[str]:
    """The open_department_ids of a department and everything below it (from the seed)."""
    ids = {sandbox.seed.department(key).open_department_id}
    while True:
        below = {d.open_department_id for d in sandbox.seed.departments if d.parent_open_department_id in ids}
        if below <= ids:
            return ids
        ids |= below


def _reports(sandbox, manager_key: str) -> set[str]:
    """open_ids of everyone under `manager_key`, directly or further down (the seed's EHR manager keys), who is
    in the contact directory now (the bot learns a manager's reports from it: not pre-hires, not people who left)."""
    in_contact = {p.open_id for p in sandbox.seed.active_people}
    under, frontier = set(), {manager_key}
    while frontier:
        found = {e["person_key"] for e in sandbox.seed.employees if e["manager_key"] in frontier} - under
        under |= found
        frontier = found
    return {e["open_id"] for e in sandbox.seed.employees if e["person_key"] in under} & in_contact


def _expected(sandbox, rule, *, manager_key: str | None = None) -> list[str]:
    today = NOW.date()
    window = timedelta(days=30)
    scope = _reports(sandbox, manager_key) if manager_key else None
    chosen = []
    for e in sandbox.seed.employees:
        fields = e["system_fields"]
        if scope is not None and e["open_id"] not in scope:
            continue
        if rule(fields, today, window):
            chosen.append(fields["name"])
    return sorted(chosen)


def _day(value: str):
    return date.fromisoformat(value) if value else None


RULES = {
    "roster": lambda f, today, w: f["status"] in (2, 4),
    "roster new": lambda f, today, w: f["status"] in (2, 4) and _day(f["hire_date"]) is not None
    and today - w <= _day(f["hire_date"]) <= today,
    "roster leaving": lambda f, today, w: f["status"] == 4,
    "roster probation": lambda f, today, w: f["status"] in (2, 4) and _day(f["conversion_date"]) is not None
    and today <= _day(f["conversion_date"]) <= today + w,
    "roster all": lambda f, today, w: True,
}


@pytest.mark.parametrize("text", sorted(RULES))
def test_each_filter_shows_exactly_who_qualifies_to_an_admin(hr_chat, sandbox, text):
    [entry] = hr_chat.say("郭芳", text)
    expected = _expected(sandbox, RULES[text])
    assert expected, "the seed has someone for every filter"
    assert sorted(_all_names(hr_chat, "郭芳", entry)) == expected


@pytest.mark.parametrize(("manager", "key"), [("王磊", "wanglei"), ("陈立", "cto")])
@pytest.mark.parametrize("text", sorted(RULES))
def test_each_filter_shows_a_manager_exactly_their_reports_who_qualify(hr_chat, sandbox, text, manager, key):
    [entry] = hr_chat.say(manager, text)
    assert sorted(_all_names(hr_chat, manager, entry)) == _expected(sandbox, RULES[text], manager_key=key)


@pytest.mark.parametrize(("asker", "manager_key"), [("郭芳", None), ("陈立", "cto")])
@pytest.mark.parametrize(("query", "dept_key"), [("Engineering", "eng"), ("后端组", "backend"), ("Design", "design")])
def test_a_department_shows_exactly_its_people_and_those_below_it(hr_chat, sandbox, asker, manager_key, query,
                                                                  dept_key):
    ids = _subtree(sandbox, dept_key)
    [entry] = hr_chat.say(asker, f"roster dept {query}")
    expected = _expected(sandbox, lambda f, today, w: f["status"] in (2, 4) and f["department_id"] in ids,
                         manager_key=manager_key)
    assert sorted(_all_names(hr_chat, asker, entry)) == expected


class _Recording:
    """An EHR record as the SDK hands it over, noting every attribute read; anything not given reads as a
    secret (the real record also holds ID numbers, bank accounts, addresses...)."""

    def __init__(self, values: dict) -> None:
        self._values = values
        self.read: list[str] = []

    def __getattr__(self, name: str):
        self.read.append(name)
        return self._values.get(name, "SECRET-" + name)


def test_the_roster_model_is_built_only_from_the_allow_list():
    """to_employee reads only ALLOWED_FIELDS (and the record's user_id), and every Employee field comes from them:
    a field added to the model without an allowed source, or a read of another raw field, fails here."""
    from dataclasses import fields
    from types import SimpleNamespace

    from bot.feishu.roster import ALLOWED_FIELDS, to_employee

    # Widening the allow-list is a decision about people's data: make it here too, on purpose.
    assert set(ALLOWED_FIELDS) == {"name", "en_name", "department_id", "job", "job_level", "work_location",
                                   "employee_type", "status", "hire_date", "conversion_date", "last_day", "manager"}
    system = _Recording({
        "name": "王芳", "en_name": "Fang", "department_id": "od-9", "job": SimpleNamespace(name="Engineer"),
        "job_level": SimpleNamespace(name="P5"), "work_location": SimpleNamespace(name="上海"), "employee_type": 1,
        "status": 2, "hire_date": "2024-01-02", "conversion_date": "2024-04-02", "last_day": "2026-12-31",
        "manager": SimpleNamespace(user_id="ou_boss", name="陈立")})
    record = _Recording({"user_id": "ou_fang", "system_fields": system})
    employee = to_employee(record)
    assert set(record.read) <= {"user_id", "system_fields"}, record.read
    assert set(system.read) == set(ALLOWED_FIELDS), sorted(set(system.read) ^ set(ALLOWED_FIELDS))
    unset = [f.name for f in fields(employee) if getattr(employee, f.name) == f.default]
    assert not unset, f"Employee fields no allow-listed field fills: {unset}"
    assert not any("SECRET" in str(getattr(employee, f.name)) for f in fields(employee))
