"""Driving JupyterLab in headless Debian Chromium with Playwright (no browser download)."""

from __future__ import annotations

import shutil
from pathlib import Path

# Chromium's background services try to reach the internet; on a closed network they fail
# loudly and slowly, so they are switched off (as is the sandbox, which root cannot use).
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class JupyterLabPage:
    """The few JupyterLab gestures the end-to-end test needs, with screenshots."""

    def __init__(self, page, base_url: str, token: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.token = token
        self.artifacts = artifacts
        self.shots: list[Path] = []

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        self.shots.append(path)
        return path

    def open_lab_home(self) -> None:
        self.page.goto(f"{self.base_url}/lab?token={self.token}")
        self.page.wait_for_selector(".jp-DirListing-content", timeout=60_000)

    def listed_files(self) -> list[str]:
        self.page.wait_for_selector(".jp-DirListing-itemText", timeout=30_000)
        return self.page.locator(".jp-DirListing-itemText").all_inner_texts()

    def open_notebook(self, name: str) -> None:
        self.page.locator(".jp-DirListing-item", has_text=name).first.dblclick()
        self.page.locator(".lm-TabBar-tab.lm-mod-current", has_text=name).first.wait_for(
            timeout=60_000)
        self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell",
                                    timeout=60_000)
        self.wait_for_kernel_idle(timeout=60_000)

    def menu(self, menu: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        self.page.locator(".lm-Menu-itemLabel", has_text=item).first.click()

    def run_all(self) -> None:
        self.menu("Run", "Run All Cells")

    def wait_for_kernel_idle(self, timeout: int = 120_000) -> None:
        """Idle and no cell still queued or running (prompt [*])."""
        self.page.wait_for_function(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                if (!panel) return false;
                const prompts = [...panel.querySelectorAll('.jp-InputPrompt')];
                if (prompts.some(p => p.textContent.includes('*'))) return false;
                const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                return !status || status.getAttribute('data-status') === 'idle';
            }""",
            timeout=timeout,
            polling=500,
        )

    def error_outputs(self) -> list[str]:
        """Text of every error or stderr output, with the start of the cell that made it."""
        return self.page.evaluate(
            """() => {
                const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                const selector = "[data-mime-type='application/vnd.jupyter.stderr']";
                return [...panel.querySelectorAll(selector)].map(output => {
                    const cell = output.closest('.jp-Cell');
                    const source = cell ? cell.querySelector('.jp-InputArea').innerText : '';
                    return source.slice(0, 80) + ' -> ' + output.innerText.slice(0, 400);
                });
            }"""
        )

    def cell_containing(self, text: str):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell",
                                 has_text=text).first

    def replace_cell_source(self, cell, source: str) -> None:
        editor = cell.locator(".cm-content").first
        editor.click()
        self.page.keyboard.press("Control+A")
        # insert_text types no key events, so the editor adds no closing brackets of its own.
        self.page.keyboard.insert_text(source)

    def run_cell_and_next(self, cell) -> None:
        cell.locator(".cm-content").first.click()
        self.page.keyboard.press("Shift+Enter")
