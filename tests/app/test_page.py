"""The page in a real browser: title, controls, the ensemble and tipping panels, the live
run, uploads.

Runs `patronage app` and drives it with Playwright (pytest-playwright) through the system's
Chromium (Debian's `chromium`; Playwright's own browser download is not used), and skips,
saying why, where none is installed. The tests share one page and run in file order (the
slider test leaves the level at 0.7, the score test lowers Assad's loyalty). The fixtures
live here, not in a conftest.py: the suite's tests import `conftest` by name, and a second
one would shadow it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("solara", reason="the page needs the [app] extra")
pytest.importorskip("playwright", reason="the browser tests need the [app] extra")

from matplotlib.image import imread

import patronage
from patronage.errors import InputError
from patronage.scenario.loader import from_text

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "syria_withdrawal.yaml"
TIMEOUT = 30_000  # ms: a change reaches the server, the panel is recomputed and redrawn


# --- the browser and the server ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_SECONDS = 60
SHOWN: dict[str, str] = {}  # what one test saw on the shared page, for a later one


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


# --- the tests ----------------------------------------------------------------------------


def panel_values(page) -> dict[tuple[str, str], float]:
    cells = page.locator(".ensemble-table td[data-field]")
    out = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        key = (cell.get_attribute("data-partner"), cell.get_attribute("data-field"))
        out[key] = float(cell.get_attribute("data-value"))
    return out


def api_values(tmp_path: Path, level: float) -> dict[tuple[str, str], float]:
    """The same numbers from the Python API: a batch of 1,000 ensemble runs, seed 0."""
    res = patronage.run_batch(
        SCENARIO,
        overrides=[f"withdrawal.level={level}"],
        replicates=1000,
        seed=0,
        engine="ensemble",
        series_every=None,
        out=tmp_path / "api",
    )
    summary = res.summary().set_index("partner")
    out = {}
    outcomes = res.finals()  # one row per (run, partner)
    for pid in res.partners:
        out[(pid, "p_realign")] = float(summary.loc[pid, "p_realign"])
        out[(pid, "p_collapse")] = float(summary.loc[pid, "p_collapse"])
        statuses = outcomes.loc[outcomes["partner"] == pid, "status"]
        for status in ("aligned", "hedging", "realigned", "collapsed"):
            out[(pid, f"final_{status}")] = float((statuses == status).mean())
    return out


def tipping_values(page) -> dict[tuple[str, float], float]:
    """The tipping panel's P(realign) per (partner, level), from its table's data-value."""
    page.locator(".tipping-table").wait_for(timeout=TIMEOUT)
    cells = page.locator(".tipping-table td[data-level]")
    out = {}
    for i in range(cells.count()):
        cell = cells.nth(i)
        key = (cell.get_attribute("data-partner"), float(cell.get_attribute("data-level")))
        out[key] = float(cell.get_attribute("data-value"))
    return out


def api_tipping(tmp_path: Path, overrides: list[str]) -> dict[tuple[str, float], float]:
    """The same numbers from the Python API: the level swept over the panel's 11 levels,
    200 replicates (common random numbers), seed 0: the tipping curve's points."""
    from patronage.reporting.plots.tipping import curve_points

    res = patronage.run_batch(
        SCENARIO,
        overrides=overrides,
        sweeps={"withdrawal.level": [round(i / 10, 12) for i in range(11)]},
        replicates=200,
        seed=0,
        engine="ensemble",
        series_every=None,
        out=tmp_path / "api",
    )
    points = curve_points(res, "withdrawal.level")
    return {(row.partner, row.x): row.k / row.runs for row in points.itertuples(index=False)}


def marked_level(page) -> set[str]:
    """The levels of the tipping table's highlighted cells (the page's own level)."""
    cells = page.locator(".tipping-table td.current-level")
    return {cells.nth(i).get_attribute("data-level") for i in range(cells.count())}


def test_title_and_controls(app_page):
    assert app_page.title() == "patronage: syria_withdrawal"
    # the bundled ramp is a range (drawn per run): a slider for each of low, mode and high
    ramp = ("withdrawal-ramp-low", "withdrawal-ramp-mode", "withdrawal-ramp-high")
    for control in ("withdrawal-level", "withdrawal-start", *ramp):
        assert app_page.locator(f".control-{control} [role=slider]").count() == 1
    assert app_page.locator(".control-withdrawal-targets").count() == 1
    for button in ("Step", "Play", "Pause", "Reset", "Reset to the file", "Run and save"):
        assert app_page.get_by_role("button", name=button, exact=True).count() == 1
    assert app_page.get_by_text("Download scenario (YAML)").count() == 1
    assert "the file's values" in app_page.locator(".ensemble-caption").inner_text()


def test_tipping_panel_shows_the_sweep_of_the_settings(app_page, tmp_path):
    shown = tipping_values(app_page)
    assert len(shown) == 7 * 11  # every partner at every level
    # data-value holds 6 decimals: equal to the API's numbers up to that rounding
    assert shown == pytest.approx(api_tipping(tmp_path, []), abs=5e-7)
    assert marked_level(app_page) == {"1"}  # the file's level, highlighted
    assert app_page.locator(".tipping-panel img").count() == 1
    SHOWN["tipping caption"] = app_page.locator(".tipping-caption").inner_text()


def test_withdrawal_slider_updates_the_panel(app_page, tmp_path):
    before = panel_values(app_page)
    assert before == pytest.approx(api_values(tmp_path / "before", 1.0), abs=5e-7)
    slider = app_page.locator(".control-withdrawal-level [role=slider]")
    slider.focus()
    for _ in range(30):  # 1.00 -> 0.70 in steps of 0.01
        slider.press("ArrowLeft")
    caption = app_page.locator(".ensemble-caption")
    # the computation for 0.7 itself, not for 0.71 on the way there
    caption.filter(has_text=re.compile(r"withdrawal\.level=0\.7(?!\d)")).wait_for(timeout=TIMEOUT)
    after = panel_values(app_page)
    assert after != before
    # data-value holds 6 decimals: equal to the API's numbers up to that rounding
    assert after == pytest.approx(api_values(tmp_path / "after", 0.7), abs=5e-7)


def test_the_level_moves_the_tipping_mark_not_its_numbers(app_page, tmp_path):
    """The sweep replaces the page's level (left at 0.7 by the slider test): the panel marks
    the new level and keeps its numbers, those of the file's values."""
    caption = app_page.locator(".tipping-caption")
    caption.filter(has_text="the page's level (0.7) dotted").wait_for(timeout=TIMEOUT)
    assert marked_level(app_page) == {"0.7"}
    # not recomputed: the caption still says when the first computation took, to 10 ms
    first = SHOWN["tipping caption"].split("; for")[0]
    assert caption.inner_text().split("; for")[0] == first
    assert "for the file's values" in caption.inner_text()
    assert tipping_values(app_page) == pytest.approx(api_tipping(tmp_path, []), abs=5e-7)


def test_step_updates_counter_and_network(app_page):
    counter = app_page.locator(".step-counter")
    network = app_page.locator(".live-network img")
    start = int(counter.get_attribute("data-step"))
    before = network.screenshot()
    for k in (1, 2):
        app_page.get_by_role("button", name="Step", exact=True).click()
        app_page.locator(f'.step-counter[data-step="{start + k}"]').wait_for(timeout=TIMEOUT)
    assert counter.inner_text().startswith(f"step {start + 2} / 120")
    # the figure's title names the step, so a redrawn network is a different picture
    deadline = time.monotonic() + TIMEOUT / 1000
    while network.screenshot() == before:
        assert time.monotonic() < deadline, "the network was not redrawn after a step"
        app_page.wait_for_timeout(100)


def test_play_pause_and_reset(app_page):
    def step() -> int:
        return int(app_page.locator(".step-counter").get_attribute("data-step"))

    start = step()
    app_page.get_by_role("button", name="Play", exact=True).click()
    app_page.wait_for_function(
        f"() => Number(document.querySelector('.step-counter').dataset.step) >= {start + 3}",
        timeout=TIMEOUT,
    )
    app_page.get_by_role("button", name="Pause", exact=True).click()
    # Play is enabled again once the page has drawn the pause, and with it every step
    # that ticks sent before the pause made (the server handles events in order)
    play = app_page.get_by_role("button", name="Play", exact=True)
    deadline = time.monotonic() + TIMEOUT / 1000
    while not play.is_enabled():
        assert time.monotonic() < deadline, "Play was not enabled again after Pause"
        app_page.wait_for_timeout(100)
    paused = step()
    app_page.wait_for_timeout(1500)  # six ticks' time: a playing run would have moved
    assert step() == paused
    app_page.get_by_role("button", name="Reset", exact=True).click()
    app_page.locator('.step-counter[data-step="0"]').wait_for(timeout=TIMEOUT)


def test_bad_upload_shows_the_loaders_line(app_page, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = SCENARIO.read_text().replace("steps: 120", "steps: -5", 1)
    bad.write_text(text)
    with pytest.raises(InputError) as expected:
        from_text(text, "bad.yaml")
    app_page.locator("[data-testid=scenario-upload]").set_input_files(str(bad))
    message = app_page.locator(".page-message")
    message.filter(has_text="bad.yaml").wait_for(timeout=TIMEOUT)
    shown = message.inner_text().strip()
    assert shown == str(expected.value)
    assert shown.startswith("bad.yaml:") and "\n" not in shown
    assert "Traceback" not in app_page.inner_text("body")


def test_save_runs_a_batch_into_the_named_folder(app_page, tmp_path):
    out = tmp_path / "saved"
    app_page.get_by_label("result folder (new)").fill(str(out))
    app_page.get_by_role("button", name="Run and save", exact=True).click()
    outcome = app_page.locator(".save-outcome").filter(has_text="saved 1,000 runs to")
    outcome.wait_for(timeout=2 * TIMEOUT)
    res = patronage.open_results(out)
    assert len(res.runs) == 1000
    # the batch is of the settings on the page: the level the slider test left
    assad = res.finals().query("partner == 'assad'")
    assert (assad["status"] == "aligned").mean() == pytest.approx(
        panel_values(app_page)[("assad", "final_aligned")], abs=5e-7
    )


def test_a_score_updates_the_tipping_panel(app_page, tmp_path):
    """Assad's lowest loyalty 0.3 -> 0.1 (a ranged score: one slider per bound): the panel
    is recomputed, for the new value and the level left at 0.7."""
    before = tipping_values(app_page)
    app_page.get_by_text("partners' scores", exact=True).click()
    slider = app_page.locator(".control-partners-assad-loyalty-low [role=slider]")
    slider.focus()
    for _ in range(20):  # 0.30 -> 0.10 in steps of 0.01
        slider.press("ArrowLeft")
    caption = app_page.locator(".tipping-caption")
    # the computation for the last value, not one of the values on the way there
    caption.filter(has_text=re.compile(r"partners\.assad\.loyalty\.low=0\.1;")).wait_for(
        timeout=TIMEOUT
    )
    after = tipping_values(app_page)
    assert after != before
    overrides = ["withdrawal.level=0.7", "partners.assad.loyalty.low=0.1"]
    assert after == pytest.approx(api_tipping(tmp_path, overrides), abs=5e-7)


def test_screenshot_is_not_blank(app_page, tmp_path):
    path = tmp_path / "page.png"
    app_page.screenshot(path=str(path), full_page=False)
    pixels = imread(path)[:, :, :3]
    # A blank page is one colour; the page has text, sliders and figures in many colours.
    assert pixels.std() > 0.05
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 100
