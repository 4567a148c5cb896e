"""How typed text is compared: one function per kind of comparison (bot/textfold.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import OkrPeriod, current_period_index
from bot.store import from_slot, to_slot
from bot.textfold import fold_name, fold_spaceless, fold_word


def test_each_fold_keeps_the_spaces_its_comparison_needs():
    assert fold_word("ＡＬＬ") == "all" and fold_word("全部") == "全部"
    assert fold_name("  Li Wei ") == "li wei" != fold_name("Liwei")
    assert fold_spaceless("２０２６ Ｑ４") == fold_spaceless("2026q4") == "2026q4"


def _period(name: str, start: datetime, days: int = 90) -> OkrPeriod:
    return OkrPeriod(id=name, zh_name=name, en_name=name, start=start, end=start + timedelta(days=days))


def test_the_current_period_is_the_one_containing_now_else_the_latest_started_else_the_first():
    q3 = _period("q3", datetime(2026, 7, 1, tzinfo=UTC))
    q4 = _period("q4", datetime(2026, 10, 1, tzinfo=UTC))
    gap = _period("next", datetime(2027, 3, 1, tzinfo=UTC))
    assert current_period_index((q3, q4, gap), datetime(2026, 11, 1, tzinfo=UTC)) == 1
    assert current_period_index((q3, q4, gap), datetime(2027, 1, 15, tzinfo=UTC)) == 1  # between periods
    assert current_period_index((q4, gap), datetime(2026, 1, 1, tzinfo=UTC)) == 0  # before all of them
    assert current_period_index((), datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_a_slot_reads_back_as_the_time_it_was_written_for():
    moment = datetime(2026, 11, 27, 17, 0, 5, tzinfo=UTC) + timedelta(hours=8)
    assert from_slot(to_slot(moment)) == moment.replace(microsecond=0)
