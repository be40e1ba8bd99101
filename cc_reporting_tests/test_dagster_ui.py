"""After `cc-reporting demo` with the README's DAGSTER_HOME, the Dagster UI (a real `dagster-webserver` on a
loopback port, opened in headless Chromium) shows the demo's runs under their jobs, the assets and their
descriptions; its GraphQL endpoint says the same."""
import html
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .test_dashboard import chromium_binary

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body
    return body["data"]


def _page(binary: str, url: str, profile: Path) -> str:
    """The DOM after the UI's scripts fetched and drew the page."""
    done = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--virtual-time-budget=30000", "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def demo_home(tmp_path):
    """A checkout's layout (data/dagster/dagster.yaml links to the project's) after the README's demo command."""
    home = tmp_path / "data" / "dagster"
    home.mkdir(parents=True)
    (home / "dagster.yaml").symlink_to(ROOT / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CC_")}
    env.update(DAGSTER_HOME=str(home), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "cc_reporting.cli", "demo", "--agents", "2"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return tmp_path, env


@pytest.fixture
def webserver(demo_home):
    checkout, env = demo_home
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "dagster_webserver", "-h", "127.0.0.1", "-p", str(port),
                               "-w", str(ROOT / "workspace.yaml")], cwd=checkout, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()[-3000:]
                assert time.monotonic() < deadline, "dagster-webserver did not answer within 240 s"
                time.sleep(1)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_the_ui_shows_the_demos_runs_under_their_jobs_and_the_assets_with_descriptions(webserver, tmp_path):
    binary, port = chromium_binary(), webserver
    runs = _graphql(port, "{ runsOrError { ... on Runs { results { runId jobName status } } } }")
    runs = runs["runsOrError"]["results"]
    assert runs and all(r["status"] == "SUCCESS" for r in runs), runs
    demo_run = next(r for r in runs if r["jobName"] == "ingest_and_interval_reports")
    assert {r["jobName"] for r in runs} == {"ingest_and_interval_reports", "teleopti_agent_performance_job",
                                            "kpi_daily_job"}

    runs_page = _page(binary, f"http://127.0.0.1:{port}/runs", tmp_path / "profile")
    assert demo_run["runId"][:8] in runs_page and "ingest_and_interval_reports" in runs_page

    nodes = _graphql(port, "{ assetNodes { assetKey { path } groupName description } }")["assetNodes"]
    by_name = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    description = by_name["kpi_interval"]["description"]
    assert description.startswith("KPIs per queue and 15-minute UTC interval"), description
    asset_page = _page(binary, f"http://127.0.0.1:{port}/assets/kpi_interval", tmp_path / "profile")
    assert description in asset_page

    raw_assets = sorted(name for name, n in by_name.items() if n["groupName"] == "raw" or name.startswith("raw_"))
    assert {"raw_ctr", "raw_agent_report", "raw_agent_events"} <= set(raw_assets), raw_assets
    raw_page = _page(binary, f"http://127.0.0.1:{port}/assets/raw_ctr", tmp_path / "profile")
    assert by_name["raw_ctr"]["description"] in html.unescape(raw_page)  # the DOM escapes quotes
