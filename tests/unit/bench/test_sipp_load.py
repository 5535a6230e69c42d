"""SIPp's statistics file and the load plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.sipp_load import concurrency, counts, parse_stat_csv, plan_for, sipp_argv

SAMPLE = Path(__file__).with_name("sipp_stat_sample.csv")


def test_counts_come_from_the_last_row_and_the_peak_from_all() -> None:
    rows = parse_stat_csv(SAMPLE.read_text())
    assert len(rows) == 3
    got = counts(rows)
    assert (got.placed, got.successful, got.failed, got.peak_concurrent) == (100, 100, 0, 2)


def test_concurrency_is_stamped_with_epoch_seconds() -> None:
    series = concurrency(parse_stat_csv(SAMPLE.read_text()))
    assert series[1][0] == pytest.approx(1795382223.984596) and series[1][1] == 2


def test_an_empty_file_counts_nothing() -> None:
    assert counts(parse_stat_csv("")).placed == 0


def test_plan_keeps_level_calls_in_progress() -> None:
    plan = plan_for(200, 25.0)
    assert plan.calls == 400 and plan.rate == pytest.approx(8.0)
    assert plan.rate * 25.0 == pytest.approx(plan.level)
    assert plan.seconds == pytest.approx(50.0)


def test_argv_limits_concurrency_and_traces_statistics(tmp_path: Path) -> None:
    argv = sipp_argv(plan_for(100, 25.0), "127.0.0.1:5080", 15061, 17000, tmp_path)
    joined = " ".join(argv)
    assert "-l 100 -m 200" in joined and "-r 4.000 -rp 1000" in joined
    assert f"-stf {tmp_path / 'sipp_stat.csv'}" in joined and "-fd 1" in joined
    assert argv[argv.index("-s") + 2] == "127.0.0.1:5080"
