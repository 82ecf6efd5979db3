"""The dashboard in a real browser: `streamlit run` (the command `labelwatch serve` starts)
on the demo workspace, headless Chromium driven over the DevTools protocol; sign in through
the form as admin, then open every page the navigation shows by clicking its sidebar link,
wait for it to render, screenshot it and check that it shows content and no exception.

Skips when no Chromium-family browser is on PATH (CI installs Debian's `chromium`, see
.ci/run). The screenshots are left in the test's tmp_path (`pytest --basetemp DIR` keeps
them where you can look).
"""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageStat

import auditor.service as service
from tests.dashboard.cdp import Page, browser, find_browser, free_port, http_ok, wait_for
from tests.dashboard.conftest import PASSWORD, Workspace

PAGE_TIMEOUT_S = 30
STABLE_S = 0.6  # a page counts as rendered when its text has not changed for this long

# One snapshot of the page: what the render wait and the assertions look at.
SNAPSHOT_JS = """(() => {
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const active = document.querySelector('[data-testid="stSidebarNavLink"][aria-current="page"]');
  const rect = main ? main.getBoundingClientRect() : null;
  return {
    path: location.pathname,
    text: main ? main.innerText : '',
    heading: main ? Array.from(main.querySelectorAll('h1')).map(h => h.innerText).join(' ') : '',
    exceptions: Array.from(document.querySelectorAll('[data-testid="stException"]'))
      .map(e => e.innerText),
    busy: document.querySelectorAll('[data-stale="true"], [data-testid="stSpinner"], '
      + '[data-testid="stSkeleton"], [data-testid="stStatusWidget"]').length,
    active: active ? active.innerText : null,
    box: rect ? [rect.left, rect.top, rect.right, rect.bottom] : null,
    scale: window.devicePixelRatio,
  };
})()"""
NAV_JS = """Array.from(document.querySelectorAll('[data-testid="stSidebarNavLink"]'))
  .map(a => ({title: a.innerText.trim().split('\\n').pop().trim(),
              path: new URL(a.href).pathname}))"""
EXPAND_NAV_JS = """(() => {
  const more = document.querySelector('[data-testid="stSidebarNavViewButton"]');
  if (more && /more/i.test(more.innerText)) { more.click(); return true; }
  return false;
})()"""


@pytest.fixture
def chromium() -> str:
    """The browser binary; skips the test (before the workspace is built) when none."""
    binary = find_browser()
    if binary is None:
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH: install one "
            "(Debian: apt-get install -y chromium) to run the real-browser dashboard test"
        )
    return binary


@pytest.fixture
def server(demo_workspace_db: Workspace) -> Iterator[str]:
    """`streamlit run dashboard/streamlit_app.py` on the demo workspace; its base URL."""
    port = free_port()
    env = dict(os.environ)
    env["LABELWATCH_DB_PATH"] = str(demo_workspace_db.db)
    env["LABELWATCH_USERS_FILE"] = str(demo_workspace_db.users_file)
    process = subprocess.Popen(
        service.dashboard_command(demo_workspace_db.settings, port=port),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for(lambda: http_ok(f"{url}/_stcore/health"), timeout=60, what="streamlit health")
        except TimeoutError:
            process.terminate()
            output = process.communicate(timeout=10)[0]
            raise AssertionError(f"streamlit did not come up:\n{output[-3000:]}") from None
        yield url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


def snapshot(page: Page) -> dict[str, Any]:
    value: dict[str, Any] = page.evaluate(SNAPSHOT_JS)
    return value


def rendered(page: Page, path: str) -> dict[str, Any]:
    """Wait until the page at `path` has a heading, nothing running or stale, and the same
    text for STABLE_S (or shows an exception); the last snapshot."""
    state: dict[str, Any] = {"last": None, "since": 0.0}

    def settled() -> dict[str, Any] | None:
        now = snapshot(page)
        if now["path"] != path:
            return None
        if now["exceptions"]:
            return now
        if now["busy"] or not now["heading"].strip():
            state["last"] = None
            return None
        key = (now["text"], now["heading"])
        if key != state["last"]:
            state["last"], state["since"] = key, time.monotonic()
            return None
        return now if time.monotonic() - state["since"] >= STABLE_S else None

    return wait_for(settled, timeout=PAGE_TIMEOUT_S, what=f"page {path} to render")


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.navigate(f"{url}/")
    inputs = "document.querySelectorAll('[data-testid=\"stTextInput\"] input')"
    wait_for(lambda: page.evaluate(f"{inputs}.length") == 2, timeout=30, what="the sign-in form")
    for index, text in enumerate((username, password)):
        page.evaluate(f"{inputs}[{index}].focus()")
        page.insert_text(text)
    page.evaluate("document.querySelector('[data-testid=\"stFormSubmitButton\"] button').click()")


def navigation(page: Page) -> list[dict[str, str]]:
    def links() -> list[dict[str, str]] | None:
        if page.evaluate(EXPAND_NAV_JS):
            return None
        found: list[dict[str, str]] = page.evaluate(NAV_JS)
        return found or None

    try:
        return wait_for(links, timeout=30, what="the sidebar navigation after signing in")
    except TimeoutError:
        state = snapshot(page)
        raise AssertionError(
            f"no navigation after signing in; the page shows {state['text'][:500]!r}, "
            f"exceptions {state['exceptions']}"
        ) from None


def has_content(png: bytes, box: list[float] | None, scale: float) -> tuple[float, int]:
    """(grey-level standard deviation, distinct colours) of the main area of the PNG:
    near 0 and a handful for a blank or uniform page."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if box is not None:
        left, top, right, bottom = (int(v * scale) for v in box)
        region = (max(left, 0), max(top, 0), min(right, image.width), min(bottom, image.height))
        if region[2] - region[0] > 50 and region[3] - region[1] > 50:
            image = image.crop(region)
    colours = image.getcolors(maxcolors=1 << 16)
    distinct = len(colours) if colours is not None else 1 << 16
    return ImageStat.Stat(image.convert("L")).stddev[0], distinct


def test_every_page_renders_in_chromium(chromium: str, server: str, tmp_path: Path) -> None:
    with browser(chromium, tmp_path / "profile") as page:
        page.call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        sign_in(page, server, "admin", PASSWORD)
        pages = navigation(page)
        titles = [p["title"] for p in pages]
        assert "Overview" in titles, titles
        assert "Jobs" in titles or len(titles) > 1, titles  # admin sees more than one page
        problems: list[str] = []
        for index, spec in enumerate(pages):
            page.evaluate(
                f"document.querySelectorAll('[data-testid=\"stSidebarNavLink\"]')[{index}].click()"
            )
            try:
                state = rendered(page, spec["path"])
            except TimeoutError as error:
                problems.append(
                    f"{spec['title']} ({spec['path']}): {error}; "
                    f"shows {snapshot(page)['text'][:300]!r}"
                )
                continue
            shot = tmp_path / f"{index:02d}{spec['path'].replace('/', '_') or '_'}.png"
            png = page.screenshot(shot)
            spread, distinct = has_content(png, state["box"], state["scale"])
            if state["exceptions"]:
                problems.append(f"{spec['title']}: exception {state['exceptions'][0][:500]}")
            if spread < 5 or distinct < 20:
                problems.append(
                    f"{spec['title']}: screenshot {shot} looks blank "
                    f"(grey stddev {spread:.1f}, {distinct} colours)"
                )
            if state["active"] is None or spec["title"] not in state["active"]:
                problems.append(f"{spec['title']}: sidebar marks {state['active']!r} active")
            if spec["title"].lower() not in state["text"].lower():
                problems.append(f"{spec['title']}: the page does not show its title")
            if len(state["text"].strip()) < 20:
                problems.append(f"{spec['title']}: almost no text: {state['text']!r}")
            if spec["title"] == "Overview" and (
                "overview" not in state["heading"].lower() or "Items" not in state["text"]
            ):
                problems.append(f"Overview: no overview heading or Items: {state['text'][:300]!r}")
        assert not problems, "\n".join(problems)
