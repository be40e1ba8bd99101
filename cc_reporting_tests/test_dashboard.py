"""The static KPI dashboard: self-contained, deterministic, and its charts really draw in headless Chromium."""
import os
import re
import shutil
import subprocess
from datetime import timedelta

import duckdb
import pytest

from cc_reporting.models.kpi import marts
from cc_reporting.models.kpi.dashboard import render_dashboard

from .kpi_rows import DAY, at, create_jar, row, settings, worked_example

CHART_IDS = ["volume", "service_level", "aht", "abandonment", "csat", "fcr", "deflection", "intents", "journeys"]
HOSTILE_INTENT = "</script><b>x</b>"


def day_rows():
    """The worked example plus IVR calls and web-bot sessions with intents and journey paths (one hostile name)."""
    rows = worked_example()
    for r in rows:
        r.update(Intent="BILLING", journey_path="IVR>VOICE")
    rows += [row(f"i{k}", "IVR", at("10:00:00") + timedelta(minutes=k), initiation_method="INBOUND",
                 IsDigitalOffered=k < 2, IsDigitalAccepted=k < 1, Intent="BALANCE", journey_path="IVR")
             for k in range(3)]
    rows += [row("w1", "WEBCHAT_BOT", at("08:00:00"), Intent=HOSTILE_INTENT, journey_path="WEBCHAT_BOT>VOICE",
                 InteractionStartTime=at("08:00:03"), IsResolved=True, IsResolvedFinal=True)]
    return rows


@pytest.fixture
def con():
    c = duckdb.connect()
    create_jar(c, day_rows())
    s = settings()
    marts.build_kpi_interval(c, s, at("00:00:00"), at("00:00:00", DAY + timedelta(days=1)))
    marts.build_kpi_daily(c, s, [DAY])
    yield c
    c.close()


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is required under CI (apt-get install -y chromium)")
    pytest.skip("Chromium not installed (apt-get install -y chromium); CI runs this test")


def dump_dom(binary, page, profile) -> str:
    result = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_chart_draws_in_headless_chromium(con, tmp_path):
    """Nine charts: the script sets data-charts-drawn="9" after building nine SVGs; the line charts have series
    paths with points, the bar charts have bars; the hostile intent shows as text, not markup."""
    binary = chromium_binary()
    page = render_dashboard(con, settings(), DAY, tmp_path / "out")
    dom = dump_dom(binary, page, tmp_path / "profile")
    assert 'data-charts-drawn="9"' in dom
    assert len(re.findall(r"<svg\b", dom)) == 9
    assert re.findall(r'data-chart="([a-z_]+)"', dom) == CHART_IDS
    drawn_series = [d for d in re.findall(r'<path d="([^"]*)"[^>]*class="series"', dom) if d != "M0 0"]
    assert len(drawn_series) >= 5  # offered, answered, abandoned, service level, AHT at least
    assert len(re.findall(r'<rect [^>]*class="bar"', dom)) >= 8
    assert "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in dom and "<b>x</b>" not in dom


def test_regeneration_is_byte_identical_and_atomic(con, tmp_path):
    """Same data → same bytes, whatever the directory or time; no temporary file is left behind."""
    first = render_dashboard(con, settings(), DAY, tmp_path / "a")
    again = render_dashboard(con, settings(), DAY, tmp_path / "a")
    elsewhere = render_dashboard(con, settings(), DAY, tmp_path / "b")
    assert first == again and first.name == "kpi-dashboard-2026-01-05.html"
    assert first.read_bytes() == elsewhere.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [first.name]


def test_page_is_self_contained(con, tmp_path):
    """No external script, stylesheet, font or image: the only URL is the SVG namespace name."""
    text = render_dashboard(con, settings(), DAY, tmp_path).read_text()
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=|@import|url\(", text)
    assert set(re.findall(r"https?://[^\"' )]+", text)) == {"http://www.w3.org/2000/svg"}
    assert HOSTILE_INTENT not in text  # JSON-escaped, cannot close the data script


def test_labels_say_which_csat_and_that_fcr_is_provisional(con, tmp_path):
    """The worked example's FCR rows are all provisional (5 of 5 VOICE rows not final)."""
    text = render_dashboard(con, settings(), DAY, tmp_path).read_text()
    assert "CSAT top-2 rate" in text and "CSAT mean (1–5)" in text and "not the mean" in text
    assert "provisional (5 of 5 not final)" in text and "provisional: 5 rows not final" in text


def test_an_empty_warehouse_renders_every_chart_frame_and_is_left_unchanged(tmp_path):
    """No KPI tables, no jar: the page renders with empty series (the drawing itself is the Chromium test) and
    rendering creates no table."""
    c = duckdb.connect()
    try:
        text = render_dashboard(c, settings(), DAY, tmp_path).read_text()
        assert c.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(0,)]
    finally:
        c.close()
    assert text.count('"id":"') == 9 and ">0<" in text
