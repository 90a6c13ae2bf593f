"""Fixtures for the browser tests: Debian's Chromium under Playwright, the session's live
server (``tests/conftest.py``'s ``live``) with two accounts of their own, one scanned
page read once for every test that needs a finished job, and screenshots of each step.

Chromium is the real binary Debian installs (``/usr/lib/chromium/chromium``; the
``/usr/bin/chromium`` wrapper only adds flags from ``/etc/chromium.d``), launched
headless by its path: ``playwright install`` needs a download this machine cannot make.
Playwright already runs it without Chromium's sandbox (its ``chromium_sandbox`` is
False by default), which is what lets it run as root in a container.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs
import httpx
import pytest

import ocrchat
from ocrchat_server.settings import Settings
from tests.conftest import Live
from tests.documents import TEST_DATA
from tests.live import make_accounts
from tests.web import missing

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

    from ocrchat.models import Job

CHROMIUM = Path(os.environ.get("OCRCHAT_TEST_CHROMIUM", "/usr/lib/chromium/chromium"))
"""The browser binary; ``OCRCHAT_TEST_CHROMIUM`` names another (a Chrome, say)."""
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts" / "web"
SCAN = TEST_DATA / "en_ehri_typed_dr19390519_03.jpg"
"""A typed page, one column, 1486 x 2481 at 300 dpi (EHRI Dataset, CC BY 4.0; see
``tests/data/README.md``). Tesseract reads it in a few seconds."""
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
"""A phone's screen in CSS pixels (an iPhone 14's), laid out as a phone does: with the
page's ``<meta name="viewport">``, and touch."""


@attrs.frozen
class Web:
    """The live server with the web app, and two accounts made for these tests (so that
    their job lists and tokens are theirs alone)."""

    live: Live
    alice: str
    bob: str

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def log(self) -> Path:
        """Everything the server printed (it is shared with the session's other tests)."""
        return self.live.server.log


@pytest.fixture(scope="session")
def web(live: Live) -> Web:
    """Fails at once, and says so, where the server has no web app."""
    alice, bob = make_accounts(Settings(data_dir=live.server.data_dir), "web-alice", "web-bob")
    signin = httpx.get(f"{live.url}/signin", timeout=30)
    assert signin.status_code == 200, (
        f"the server does not serve the web app: GET /signin is {signin.status_code}"
    )
    return Web(live=live, alice=alice, bob=bob)


@pytest.fixture(scope="session")
def scan_job(web: Web) -> Job:
    """``SCAN``, read on the cpu tier for web-alice, with its words: submitted through the
    API once for the session (the SDK waits as it always does, a look every 2 s)."""
    with ocrchat.Client(web.alice, base_url=web.url) as client:
        return client.ocr(SCAN, words=True, wait_timeout=240)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the module (a launch takes under a second)."""
    if not CHROMIUM.exists():
        missing(f"no Chromium at {CHROMIUM}: run scripts/setup-debian --test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test, so that its pages know when it failed."""
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@attrs.define
class Artifacts:
    """A test's folder under ``build/test-artifacts/web``, emptied when it starts."""

    folder: Path
    count: int = 0

    def shot(self, page: Page, step: str) -> Path:
        """The whole page as it is now: ``NN-<step>.png``, numbered in order."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{_slug(step)}.png"
        page.screenshot(path=path, full_page=True)
        return path


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    folder = ARTIFACTS / _slug(request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return Artifacts(folder)


class Shot(Protocol):
    def __call__(self, page: Page, step: str) -> Path: ...


@pytest.fixture
def shot(artifacts: Artifacts) -> Shot:
    """``shot(page, "sign-in")``: a screenshot of this step of the test."""
    return artifacts.shot


class OpenPage(Protocol):
    def __call__(self, *, phone: bool = False, bypass_csp: bool = False) -> Page: ...


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest, browser: Browser, live: Live, artifacts: Artifacts
) -> Iterator[OpenPage]:
    """``open_page()``: a page in a fresh browser context (no cookies) whose relative URLs
    go to the live server. ``phone``: a phone's screen, and touch; ``bypass_csp``: scripts
    the test adds run whatever the page's Content-Security-Policy says.

    A page of a failed test is photographed as it was; an uncaught JavaScript error
    fails the test."""
    opened: list[tuple[Page, list[str], list[str]]] = []

    def open_page(*, phone: bool = False, bypass_csp: bool = False) -> Page:
        context = browser.new_context(
            base_url=live.url,
            viewport=PHONE if phone else DESKTOP,
            is_mobile=phone,
            has_touch=phone,
            bypass_csp=bypass_csp,
        )
        page = context.new_page()
        console: list[str] = []
        errors: list[str] = []

        def record(message: ConsoleMessage) -> None:
            console.append(f"{message.type}: {message.text} ({message.location.get('url', '')})")

        page.on("console", record)
        page.on("pageerror", lambda error: errors.append(f"{error.name}: {error.message}"))
        opened.append((page, console, errors))
        return page

    yield open_page
    reports = request.node.stash.get(_REPORTS, {})
    failed = any(report.failed for report in reports.values())
    uncaught: list[str] = []
    for number, (page, console, errors) in enumerate(opened, 1):
        suffix = f"-{number}" if len(opened) > 1 else ""
        (artifacts.folder / f"console{suffix}.txt").write_text(
            "\n".join([*console, *(f"uncaught {error}" for error in errors)]) + "\n"
        )
        if failed and not page.is_closed():
            artifacts.shot(page, f"failed{suffix}")
        uncaught.extend(errors)
        page.context.close()
    if uncaught and not failed:
        pytest.fail("uncaught JavaScript errors:\n" + "\n".join(uncaught), pytrace=False)


@pytest.fixture
def page(open_page: OpenPage) -> Page:
    """A fresh page at a desktop's size, signed in as no one."""
    return open_page()
