"""The labs in a real browser: JupyterLab started as README command 1 does, driven headless.

Proves what nbval cannot see: the file browser lists the labs, widgets render (not "Loading
widget..."), exercise feedback is styled HTML that turns from incorrect to correct, and the
terminal's `nexus-labs progress` agrees. Screenshots of each step are kept as artifacts.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.browser import CHROMIUM_ARGS, JupyterLabPage, chromium_path
from tests.jupyter_process import free_port, start_and_wait, stop_process_tree

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
RIGHT_ANSWER = 'answer_q1 = pd.read_sql("select count(*) as n from orders", lab.sql.engine)["n"][0]'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """`python3 bootstrap.py start` on a loopback port with a known token, in a fresh workspace."""
    home = tmp_path_factory.mktemp("e2e-workspace")
    port, token = free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k != "NEXUS_HOME"}
    command = [sys.executable, str(ROOT / "bootstrap.py"), "start", "--no-browser",
               "--port", str(port), "--token", token, "--home", str(home)]
    process, _status = start_and_wait(command, port, token, cwd=home.parent, env=env)
    try:
        yield f"http://127.0.0.1:{port}", token, home
    finally:
        stop_process_tree(process)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed and could not be installed here "
                    "(.ci/run installs Debian's chromium package when it can)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def lab_page(browser, jupyterlab):
    base_url, token, home = jupyterlab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {ARTIFACTS}")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield JupyterLabPage(page, base_url, token, ARTIFACTS), home
    context.close()


def test_file_browser_lists_the_labs(lab_page):
    lab, _ = lab_page
    lab.open_lab_home()
    files = lab.listed_files()
    lab.screenshot("file-browser")
    assert "00_welcome.ipynb" in files, files


def test_welcome_runs_clean_and_renders_the_dashboard(lab_page):
    lab, _ = lab_page
    lab.open_notebook("00_welcome.ipynb")
    lab.run_all()
    lab.wait_for_kernel_idle()
    lab.screenshot("welcome-run-all")
    assert lab.error_outputs() == []
    dashboard = lab.page.locator(".widget-vbox", has_text="Nexus Labs progress").first
    dashboard.wait_for(state="attached", timeout=30_000)
    dashboard.scroll_into_view_if_needed()
    lab.screenshot("welcome-run-all-dashboard")
    page_text = lab.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").inner_text()
    assert "Loading widget" not in page_text and "Error displaying widget" not in page_text


def test_feedback_turns_from_incorrect_to_correct(lab_page):
    lab, home = lab_page
    answer_cell = lab.cell_containing("answer_q1 = ")
    check_cell = lab.cell_containing("q1.check()")

    lab.replace_cell_source(answer_cell, "answer_q1 = 1")
    lab.run_cell_and_next(answer_cell)
    lab.run_cell_and_next(check_cell)
    lab.wait_for_kernel_idle()
    incorrect = check_cell.locator(".nexus-feedback.nexus-incorrect")
    incorrect.wait_for(state="visible", timeout=30_000)
    check_cell.scroll_into_view_if_needed()
    lab.screenshot("feedback-incorrect")
    assert "Incorrect" in incorrect.inner_text()

    lab.replace_cell_source(answer_cell, RIGHT_ANSWER)
    lab.run_cell_and_next(answer_cell)
    lab.run_cell_and_next(check_cell)
    lab.wait_for_kernel_idle()
    correct = check_cell.locator(".nexus-feedback.nexus-correct")
    correct.wait_for(state="visible", timeout=30_000)
    lab.screenshot("feedback-correct")
    assert "Correct" in correct.inner_text()

    table = subprocess.run(
        [sys.executable, "-m", "nexus_labs", "progress", "--home", str(home)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    welcome_q1 = [line for line in table.splitlines() if "welcome" in line and "q1" in line]
    assert welcome_q1 and "done" in welcome_q1[0], table


def test_slider_drives_the_hit_ratio_table(lab_page):
    lab, _ = lab_page
    lab.open_notebook("04_caching.ipynb")
    lab.run_all()
    lab.wait_for_kernel_idle(timeout=180_000)
    assert lab.error_outputs() == []
    widget = lab.page.locator(".widget-vbox", has=lab.page.locator("table.nexus-hit-ratio"))
    widget = widget.first
    widget.wait_for(state="attached", timeout=30_000)
    widget.scroll_into_view_if_needed()
    table = widget.locator("table.nexus-hit-ratio")
    before = table.inner_text()
    lab.screenshot("caching-widget-before")

    slider = widget.locator(".widget-slider", has_text="cache size").first
    slider.locator(".noUi-handle").first.focus()
    for _ in range(5):  # each ArrowRight is a real user step on the slider
        lab.page.keyboard.press("ArrowRight")
    lab.page.wait_for_function(
        "([element, old]) => element.innerText !== old",
        arg=[table.element_handle(), before],
        timeout=30_000,
    )
    lab.screenshot("caching-widget-after")
    after = table.inner_text()
    assert after != before
    size_row = next(line for line in after.splitlines() if "cache size" in line)
    assert "250" in size_row, after  # 200 + 5 steps of 10, as the slider now says
