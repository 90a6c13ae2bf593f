"""The web app (``src/ocrchat_server/web``) in a real browser.

Playwright drives Debian's Chromium (``scripts/setup-debian --test`` installs it; no
``playwright install``, which downloads a browser) against a real ``ocrchat-server serve``
(``tests/conftest.py``'s ``live``), so the pages, their JavaScript, the cookies and the
API are the real ones. What each test checks is the contract between the app and its
tests (the DOM's labels, roles, ids and classes), not the app's looks.

Each test saves a screenshot of its steps, and of the page where it failed, under
``build/test-artifacts/web/<test name>/NN-<step>.png``, beside the page's console
messages (``console.txt``).

- ``test_browser.py``: sign in, upload a scan, watch it finish, its page image and
  boxes, the downloads, chat citations, tokens, sign out, a phone's width, the keyboard.
- ``test_web_security.py``: CSRF, another account's pages, the cookie's flags, tokens
  never in HTML or the log, and ``serve --no-ui``.
- ``test_accessibility.py``: axe-core (``tests/data/axe``) finds nothing serious.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

CI = os.environ.get("CI") == "true"


def missing(reason: str) -> NoReturn:
    """A missing browser or Playwright fails the test on CI (``scripts/test`` installs
    both) and skips it elsewhere, with the reason."""
    if CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def require_playwright() -> None:
    """Called first by each test module, before it imports Playwright."""
    if importlib.util.find_spec("playwright") is None:
        missing("Playwright is not installed: pip install the `test` dependency group")


def sign_in(page: Page, token: str) -> None:
    """Sign in through the form, as a person does; ends on ``/jobs``."""
    page.goto("/signin")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/jobs$"))


def csrf_of(page: Page) -> str:
    """The CSRF token of a signed-in page (``<meta name="csrf-token">``)."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token, "a signed-in page has <meta name='csrf-token' content='...'>"
    return token
