"""`toolforge report` renders in headless Chromium: charts laid out, no console messages, no network."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from toolforge.dedup import make_config, run_dedup
from toolforge.record import Record
from toolforge.store import open_store

pytestmark = pytest.mark.integration

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"]


def _chromium() -> str:
    path = shutil.which("chromium")
    # a missing browser is a broken set-up (scripts/setup.sh installs Debian's chromium): fail, do not skip
    assert path, "chromium is not installed (apt-get install chromium; scripts/setup.sh does it)"
    return path


def render(tmp_path, page) -> tuple[str, list[str]]:
    """The DOM after load, and every console line Chromium logged for the page."""
    profile = tmp_path / f"profile-{page.stem}"
    profile.mkdir()
    proc = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=3000", "--window-size=1400,2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


@pytest.fixture
def report_store(tmp_db, sample_records):
    recs = list(sample_records)
    d = recs[1].to_dict()
    d.pop("id")
    d["messages"][-1]["content"] = "A second answer."
    recs.append(Record.model_validate(d))
    with open_store(tmp_db) as store:
        store.upsert_records(recs, source="test")
        run_dedup(store, make_config(method="exact"))
    return tmp_db


def test_report_renders_charts_without_console_errors(tmp_path, report_store, run_cli):
    out = tmp_path / "report.html"
    proc = run_cli("report", "--db", report_store, "--out", out, "--catalog", "smol-tools", check=True)
    assert "wrote" in proc.stderr
    html = out.read_text()
    # self-contained: nothing is loaded from anywhere
    assert not re.search(r"""\s(src|href)\s*=""", html), "the report must not reference external resources"
    assert "@import" not in html and "url(" not in html
    dom, console = render(tmp_path, out)
    assert console == [], console
    charts = int(re.search(r'data-charts="(\d+)"', dom).group(1))
    bars = int(re.search(r'data-bars="(\d+)"', dom).group(1))
    names = set(re.findall(r'data-chart="([a-z_]+)"', dom))
    assert {"records_by_scenario", "tool_usage", "calls_histogram", "length_histogram", "turns_histogram",
            "duplicates_by_method", "catalog_coverage"} <= names
    assert charts == len(re.findall(r'<svg class="chart', dom)) >= 8
    assert bars >= 7 + 7 + 4  # scenarios, called tools, histogram bins at least
    assert "Records per scenario and status" in dom


def test_console_check_catches_a_broken_page(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    _, console = render(tmp_path, page)
    assert any("undefinedFunction" in line for line in console)


def test_report_bad_input(tmp_path, tmp_db, run_cli):
    with open_store(tmp_db):
        pass
    proc = run_cli("report", "--db", tmp_db, "--out", tmp_path / "r.html")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "holds no records" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = run_cli("report", "--db", tmp_path / "missing.duckdb", "--out", tmp_path / "r.html")
    assert proc.returncode == 2 and "no store at" in proc.stderr
