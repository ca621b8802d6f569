"""Fixtures of the page's tests: a Chromium for Playwright and a running `patronage app`.

Playwright's own browser download is not used: the tests drive the system's Chromium
(Debian's `chromium` package) through `executable_path`, and skip, saying why, where none
is installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "syria_withdrawal.yaml"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 60


def find_chromium() -> str | None:
    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium, as root)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium):
    """pytest-playwright's launch arguments, pointed at the system's Chromium."""
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """`patronage app scenarios/syria_withdrawal.yaml` on a free port; its address."""
    port = free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    cwd = tmp_path_factory.mktemp("cwd")  # the page must write nothing here
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "patronage.cli", "app", str(SCENARIO), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, "MPLBACKEND": "Agg"},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"patronage app exited: {log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"patronage app did not answer in {SERVER_START_SECONDS} s")
            time.sleep(0.3)
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/" in printed, printed
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert list(cwd.iterdir()) == [], "the page wrote into its working folder"


@pytest.fixture(scope="module")
def app_page(browser, app_url):
    """One page for the module's tests (loading the page is the slow part)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector(".ensemble-table", timeout=60_000)
    yield page
    context.close()
