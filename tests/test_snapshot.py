"""The directory and roster live in SQL; a process keeps only bounded caches in memory (issue 6, memory).

A company ten times larger than the cache bound is loaded; the caches stay within their bound, no
full copy of the company stays in memory, and search, reports, manager chains and the roster still
give the right answers.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Iterator

import pytest

from bot.feishu.clients import FeishuClients
from bot.inbound import InlineExecutor
from bot.models import Employee, Person
from bot.settings import Settings
from bot.transports.webhook import create_app
from devkit.sandbox import build_seed, serve_in_thread
from tests.conftest import APP_ID, APP_SECRET, ENCRYPT_KEY, NOW, VERIFICATION_TOKEN, Chat, RunningSandbox, card_title

EXTRA_PEOPLE = 600
BOUND = 40  # PEOPLE_CACHE_SIZE for these tests: far fewer than the company's 660-odd people


@pytest.fixture(scope="module")
def big() -> Iterator[RunningSandbox]:
    seed = build_seed(extra_people=EXTRA_PEOPLE, activity=False)
    with serve_in_thread(app_id=APP_ID, app_secret=APP_SECRET, seed=seed, rate_scale=None) as server:
        yield RunningSandbox(url=server.url, app=server.app, state=server.state)


@pytest.fixture
def big_settings(big: RunningSandbox, tmp_path) -> Settings:
    return Settings(app_id=APP_ID, app_secret=APP_SECRET, verification_token=VERIFICATION_TOKEN,
                    encrypt_key=ENCRYPT_KEY, domain=big.url, database_url=f"sqlite:///{tmp_path}/bot.db",
                    retry_base_delay=0.001, retry_max_delay=0.01, rate_limit_scale=1000.0, http_timeout=5.0,
                    people_cache_size=BOUND, admins=frozenset({big.seed.person("guofang").open_id}))


@pytest.fixture
def big_chat(big: RunningSandbox, big_settings: Settings) -> Chat:
    app = create_app(big_settings, executor=InlineExecutor(), clock=lambda: NOW)
    return Chat(app.test_client(), big, big_settings)


def _clients(chat: Chat) -> FeishuClients:
    return chat.client.application.extensions["bot"].clients


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def _expected_chain(seed, person) -> tuple[str, ...]:
    chain = []
    while person.leader_key:
        person = seed.person(person.leader_key)
        chain.append(person.open_id)
    return tuple(chain)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _reference_find(people: list[Person], query: str, limit: int) -> list[str]:
    """Name search as the in-memory index did it, over the people in directory order."""
    q = _fold(query)
    ranked = []
    for index, person in enumerate(people):
        names = [_fold(n) for n in (person.name, person.en_name, person.nickname) if n]
        if any(n == q for n in names):
            rank = 0
        elif any(n.startswith(q) for n in names):
            rank = 1
        elif any(word.startswith(q) for n in names for word in n.split()):
            rank = 2
        else:
            continue
        ranked.append((rank + (0 if person.is_active else 10), index, person.open_id))
    return [open_id for _, _, open_id in sorted(ranked)[:limit]]


def test_caches_stay_within_their_bound_after_loading_a_bigger_company(big_chat, big):
    persons_before, employees_before = _alive(Person), _alive(Employee)
    for text in ("whois 张", "花名册 全部", "roster new"):
        assert big_chat.say("郭芳", text)
    big_chat.say("王磊", "花名册")
    clients = _clients(big_chat)
    directory = clients.contact.directory()
    for person in big.seed.people:  # every lookup by id, far past the bound
        directory.person(person.open_id)
        directory.person_by_user_id(person.user_id)
        clients.contact.get_user(person.open_id)

    assert len(directory) > 10 * BOUND
    assert clients.roster.count() == len(big.seed.employees)
    assert max(clients.contact.cached_entries().values()) <= BOUND
    # no copy of the company stays in memory: people only in the bounded caches, no roster records at all
    assert _alive(Person) - persons_before <= 3 * BOUND
    assert _alive(Employee) - employees_before == 0


def test_reports_chains_and_search_are_right_past_the_bound(big_chat, big):
    seed = big.seed
    contact = _clients(big_chat).contact
    directory = contact.directory()
    walked = list({p.open_id: p for dept in ("0", *(d.open_department_id for d in contact.list_all_departments()))
                   for p in contact.list_department_members(dept)}.values())  # the API, in directory order
    assert len(directory) == len(walked)
    in_directory = {p.open_id for p in walked}

    for person in seed.people:
        if person.open_id in in_directory:
            assert directory.manager_chain(person.open_id) == _expected_chain(seed, person)
    manager = seed.person("wanglei")
    direct = {p.open_id for p in walked if p.leader_open_id == manager.open_id}
    assert len(direct) > BOUND and {p.open_id for p in directory.direct_reports(manager.open_id)} == direct
    ceo = seed.ceo
    assert {p.open_id for p in directory.all_reports(ceo.open_id)} == in_directory - {ceo.open_id}
    assert [p.open_id for p in directory.managers()] == [
        p.open_id for p in walked if any(q.leader_open_id == p.open_id for q in walked)]
    staff = next(p for p in walked if p.en_name.startswith("Staff 00012"))
    for query in ("张", "wang", "staff", "Staff 0001", staff.name, staff.en_name, "王磊", "alex", "ZHOU", "nobody"):
        assert [p.open_id for p in directory.find(query, limit=8)] == _reference_find(walked, query, 8), query


def test_commands_answer_right_past_the_bound(big_chat, big):
    seed = big.seed
    manager = seed.person("wanglei")
    employed = [p for p in seed.people if p.leader_key == manager.key and p.ehr_status in (2, 4)]  # a team lead
    assert len(employed) > BOUND
    [entry] = big_chat.say("王磊", "花名册")
    assert card_title(entry) == "花名册" and f"共 {len(employed)} 人" in big_chat.text_of(entry)
    [entry] = big_chat.say("郭芳", "花名册 全部")
    assert f"共 {len(seed.employees)} 人" in big_chat.text_of(entry)

    staff = next(p for p in seed.people if p.key == "staff00599")
    [entry] = big_chat.say("郭芳", f"whois {staff.en_name}")
    text = big_chat.text_of(entry)
    assert staff.name in text and seed.person(staff.leader_key).name in text and "Finance" in text

    staff_member = next(p for p in seed.people if p.key == "staff00007")
    [entry] = big_chat.say(staff_member.name, "花名册")
    assert card_title(entry) == "无法查看"
    managers = {p.leader_key for p in seed.people if p.leader_key}
    expected = sum(1 for p in seed.people if p.key in managers and p.is_active)
    [entry] = big_chat.say("郭芳", "周报 开启 全部")
    assert f"已为 {expected} 位负责人开启周报" in big_chat.text_of(entry)


def test_a_second_process_uses_the_snapshot_without_walking_the_api_again(big, big_settings):
    first, second = FeishuClients.create(big_settings), FeishuClients.create(big_settings)
    mark = len(big.state.requests.entries())
    first.contact.directory()
    first.roster.list_employees()
    walk = big.state.requests.entries()[mark:]
    contact_pages = [r for r in walk if r["path"].startswith("/open-apis/contact/")]
    ehr_pages = [r for r in walk if r["path"].startswith("/open-apis/ehr/")]
    assert len(ehr_pages) == -(-len(big.seed.employees) // 100)  # one call per page, as before
    assert contact_pages

    mark = len(big.state.requests.entries())
    assert len(second.contact.directory()) == len(first.contact.directory())
    assert second.roster.count() == len(big.seed.employees)
    assert not [r for r in big.state.requests.entries()[mark:] if "/contact/" in r["path"] or "/ehr/" in r["path"]]
    second.contact.directory(fresh=True)  # a refresh walks again, once
    again = [r for r in big.state.requests.entries()[mark:] if r["path"].startswith("/open-apis/contact/")]
    assert len(again) == len(contact_pages)
