"""The web app's defences, against the live server: CSRF on forms and on the API with a
cookie, another account's pages, the session cookie's flags, tokens kept out of every
HTML page and of the log, and ``serve --no-ui``.

Most of it is plain HTTP (httpx), as an attacker's script would send it; no browser is
needed to forge a request."""

from __future__ import annotations

import uuid as uuid_module
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

import ocrchat
from ocrchat_server.app import create_app
from ocrchat_server.settings import Settings
from tests.documents import text_pdf
from tests.live import LiveServer, make_accounts
from tests.web import require_playwright, sign_in

require_playwright()

from playwright.sync_api import Page, expect  # noqa: E402

from tests.web.conftest import Shot, Web  # noqa: E402

if TYPE_CHECKING:
    from ocrchat.models import Job

EXPIRED = "The form expired"


class _Page(HTMLParser):
    """What the tests need of an HTML page: its inputs' values, its CSRF meta tag, and
    the same-origin links a person could follow."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inputs: dict[str, str] = {}
        self.meta_csrf: str | None = None
        self.links: list[str] = []
        self.lang: str | None = None
        self.tags: Counter[str] = Counter()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags[tag] += 1
        if tag == "html":
            self.lang = found.get("lang")
        elif tag == "input" and "name" in found:
            self.inputs[found["name"]] = found.get("value", "")
        elif tag == "meta" and found.get("name") == "csrf-token":
            self.meta_csrf = found.get("content")
        elif tag == "a" and "href" in found:
            self.links.append(found["href"])


def _set_cookies(response: httpx.Response) -> dict[str, tuple[str, dict[str, str]]]:
    """The response's ``Set-Cookie`` headers: name -> (value, attributes, lower-cased)."""
    cookies: dict[str, tuple[str, dict[str, str]]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *rest = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        attributes: dict[str, str] = {}
        for part in rest:
            key, _, setting = part.partition("=")
            attributes[key.strip().lower()] = setting.strip()
        cookies[name] = (value, attributes)
    return cookies


def _sign_in(url: str, token: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
    """The sign-in form, read and sent back as a browser would (its cookie by hand, as
    a ``Secure`` one is not sent back over plain HTTP by httpx); the POST's response."""
    form = httpx.get(f"{url}/signin", headers=headers, timeout=30)
    assert form.status_code == 200
    csrf = _Page(form.text).inputs.get("csrf")
    assert csrf, "the sign-in form has a hidden csrf input"
    cookie = _set_cookies(form)["ocrchat_signin"][0]
    return httpx.post(
        f"{url}/signin",
        data={"token": token, "csrf": csrf},
        headers={**(headers or {}), "Cookie": f"ocrchat_signin={cookie}"},
        timeout=30,
    )


def _signed_in(client: httpx.Client, token: str) -> str:
    """Signs ``client`` in through the form; the CSRF token of its session."""
    form = client.get("/signin")
    signed_in = client.post(
        "/signin", data={"token": token, "csrf": _Page(form.text).inputs["csrf"]}
    )
    assert signed_in.status_code == 303, signed_in.text
    assert signed_in.headers["location"].endswith("/jobs")
    jobs = client.get("/jobs")
    assert jobs.status_code == 200
    csrf = _Page(jobs.text).meta_csrf
    assert csrf, "/jobs has <meta name='csrf-token'>"
    return csrf


@contextmanager
def _session(url: str, token: str) -> Iterator[tuple[httpx.Client, str]]:
    """A client signed in through the form, and the CSRF token of its session."""
    with httpx.Client(base_url=url, timeout=30) as client:
        yield client, _signed_in(client, token)


@pytest.fixture
def alice(web: Web) -> Iterator[tuple[httpx.Client, str]]:
    with _session(web.url, web.alice) as session:
        yield session


def _submit(web: Web) -> str:
    """A one-page born-digital PDF (read from its text layer, no OCR) for web-alice."""
    submitted = httpx.post(
        f"{web.url}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {web.alice}"},
        files={"file": ("memo.pdf", text_pdf([["A memo to delete."]]), "application/pdf")},
        timeout=60,
    )
    assert submitted.status_code in (200, 202), submitted.text
    uuid: str = submitted.json()["uuid"]
    return uuid


def test_a_form_without_its_csrf_field_is_refused(web: Web) -> None:
    form = httpx.get(f"{web.url}/signin", timeout=30)
    cookie = {"Cookie": f"ocrchat_signin={_set_cookies(form)['ocrchat_signin'][0]}"}
    refused = httpx.post(f"{web.url}/signin", data={"token": web.alice}, headers=cookie, timeout=30)
    assert refused.status_code == 403
    assert EXPIRED in refused.text
    assert "ocrchat_session" not in _set_cookies(refused)

    with _session(web.url, web.alice) as (client, csrf):
        for data in ({}, {"csrf": "not-" + csrf}):
            signout = client.post("/signout", data=data)
            assert signout.status_code == 403, data
            assert signout.headers["content-type"].startswith("text/html")
            assert EXPIRED in signout.text
        # still signed in
        assert client.get("/jobs").status_code == 200
        signed_out = client.post("/signout", data={"csrf": csrf})
        assert signed_out.status_code == 303
        assert signed_out.headers["location"].endswith("/signin")


def test_the_api_with_a_cookie_needs_the_csrf_header(
    web: Web, alice: tuple[httpx.Client, str]
) -> None:
    """A cookie is sent by the browser on its own, so it alone changes nothing; a Bearer
    token is not, and needs no CSRF header."""
    client, csrf = alice
    assert client.get("/api/v1/account/").status_code == 200  # reading needs no header
    first, second = _submit(web), _submit(web)
    for headers in ({}, {"X-CSRF-Token": "not-" + csrf}):
        refused = client.delete(f"/api/v1/ocr/{first}/", headers=headers)
        assert refused.status_code == 403, refused.text
        # the API's error body, as every error of it: {"error": "<sentence>", "code": ...}
        assert refused.json()["code"] == "csrf_failed"
    deleted = client.delete(f"/api/v1/ocr/{first}/", headers={"X-CSRF-Token": csrf})
    assert deleted.status_code == 200, deleted.text
    with_bearer = httpx.delete(
        f"{web.url}/api/v1/ocr/{second}/",
        headers={"Authorization": f"Bearer {web.alice}"},
        timeout=30,
    )
    assert with_bearer.status_code == 200, with_bearer.text


def test_another_accounts_job_is_not_found(web: Web, scan_job: Job) -> None:
    with _session(web.url, web.alice) as (own, _), _session(web.url, web.bob) as (other, _):
        page = f"/jobs/{scan_job.uuid}"
        image = f"/jobs/{scan_job.uuid}/pages/1.png"
        assert own.get(page).status_code == 200
        png = own.get(image)
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG")
        assert "private" in png.headers.get("cache-control", "")
        assert own.get(f"/jobs/{scan_job.uuid}/pages/2.png").status_code == 404

        for path in (page, image):
            response = other.get(path)
            assert response.status_code == 404, path
            assert scan_job.uuid not in response.text
        assert other.get(f"/jobs/{uuid_module.uuid4()}").status_code == 404
        assert other.get("/jobs/not-a-uuid").status_code == 404


def test_signed_in_pages_need_a_session(web: Web, scan_job: Job) -> None:
    for path in ("/", "/jobs", "/account", f"/jobs/{scan_job.uuid}"):
        response = httpx.get(f"{web.url}{path}", timeout=30)
        assert response.status_code == 303, path
        assert response.headers["location"].endswith("/signin"), path


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_the_session_cookie_is_guarded(web: Web, https: bool) -> None:
    """HttpOnly and SameSite=Strict always; Secure when the request came over HTTPS, as a
    proxy says with ``X-Forwarded-Proto`` (uvicorn believes it from 127.0.0.1, its
    ``forwarded_allow_ips`` default)."""
    headers = {"X-Forwarded-Proto": "https"} if https else {}
    form = httpx.get(f"{web.url}/signin", headers=headers, timeout=30)
    _, signin_flags = _set_cookies(form)["ocrchat_signin"]
    assert "httponly" in signin_flags
    assert signin_flags.get("samesite", "").lower() == "strict"

    signed_in = _sign_in(web.url, web.alice, headers=headers)
    assert signed_in.status_code == 303
    value, flags = _set_cookies(signed_in)["ocrchat_session"]
    assert value
    assert "httponly" in flags
    assert flags.get("samesite", "").lower() == "strict"
    assert flags.get("path") == "/"
    assert ("secure" in flags) is https, flags


def test_revoking_the_token_ends_its_session(web: Web) -> None:
    created = httpx.post(
        f"{web.url}/api/v1/account/tokens/",
        headers={"Authorization": f"Bearer {web.alice}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    token, key_id = created.json()["token"], created.json()["key_id"]
    with _session(web.url, token) as (client, _):
        revoked = httpx.delete(
            f"{web.url}/api/v1/account/tokens/{key_id}/",
            headers={"Authorization": f"Bearer {web.alice}"},
            timeout=30,
        )
        assert revoked.status_code == 200, revoked.text
        after = client.get("/jobs")
        assert after.status_code == 303
        assert after.headers["location"].endswith("/signin")


def _secrets_in(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, secret in secrets.items() if secret in text]


def _assert_page_shape(path: str, html: _Page) -> None:
    """What every page of the app has: ``lang="en"``, one <main>, one <h1>."""
    assert html.lang == "en", f"{path}: <html lang={html.lang!r}>"
    assert html.tags["main"] == 1, f"{path} has {html.tags['main']} <main>"
    assert html.tags["h1"] == 1, f"{path} has {html.tags['h1']} <h1>"


def test_no_token_in_any_page_or_the_log(web: Web, scan_job: Job) -> None:
    """Every HTML page a signed-in person can reach by links (from ``/``), and the
    answers to signing in, hold neither the token signed in with, nor one made since,
    nor the session id; the server's log holds none of them either."""
    secrets = {"the API token": web.alice, "web-bob's token": web.bob}
    with _session(web.url, web.alice) as (client, csrf):
        secrets["the session id"] = client.cookies["ocrchat_session"]
        created = client.post("/api/v1/account/tokens/", headers={"X-CSRF-Token": csrf})
        assert created.status_code == 201, created.text
        secrets["a created token"] = created.json()["token"]

        signin = client.get("/signin", follow_redirects=True)
        assert not _secrets_in(signin.text, secrets)
        _assert_page_shape("/signin", _Page(httpx.get(f"{web.url}/signin", timeout=30).text))
        signed_in = _sign_in(web.url, web.alice)
        assert not _secrets_in(signed_in.text, secrets)

        origin = urlsplit(web.url).netloc
        seen: set[str] = set()
        queue = ["/", f"/jobs/{scan_job.uuid}", "/account"]
        pages = 0
        while queue and pages < 60:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = client.get(path, follow_redirects=True)
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue
            pages += 1
            leaked = _secrets_in(response.text, secrets)
            assert not leaked, f"{path} holds {', '.join(leaked)}"
            html = _Page(response.text)
            _assert_page_shape(path, html)
            assert html.meta_csrf, f"{path} has no <meta name='csrf-token'>"
            for href in html.links:
                target = urlsplit(urljoin(f"{web.url}{path}", href))
                if target.netloc != origin or target.path.startswith(("/api/", "/static/")):
                    continue
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
        assert {"/", "/jobs", "/account", f"/jobs/{scan_job.uuid}"} <= seen
    log = Path(web.log).read_text(errors="replace")
    leaked = _secrets_in(log, secrets)
    assert not leaked, f"the server's log holds {', '.join(leaked)}"


HOSTILE = [
    '<script>window.xss = "script"</script>',
    "<img src=x onerror=\"window.xss = 'img'\">",
    "<b>bold tags</b> and [a link](javascript:window.xss='link')",
]


def test_a_documents_text_is_shown_not_run(web: Web, page: Page, shot: Shot) -> None:
    """Markup in a document's text, its file name and a question is shown as text: the
    page runs none of it (the Markdown's raw HTML is escaped)."""
    name = '<img src=x onerror="window.xss=1">.pdf'
    submitted = httpx.post(
        f"{web.url}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {web.alice}"},
        files={"file": (name, text_pdf([HOSTILE]), "application/pdf")},
        timeout=60,
    )
    assert submitted.status_code in (200, 202), submitted.text
    with ocrchat.Client(web.alice, base_url=web.url) as client:
        job = client.poll(submitted.json()["uuid"], timeout=120)

    sign_in(page, web.alice)
    assert page.evaluate("() => window.xss") is None
    page.goto(f"/jobs/{job.uuid}")
    expect(page.get_by_role("navigation", name="Downloads")).to_be_visible()
    expect(page.locator("main")).to_contain_text("<script>")
    chat = page.get_by_role("region", name="Chat").or_(
        page.get_by_role("complementary", name="Chat")
    )
    chat.get_by_label("Question").fill("<img src=x onerror=\"window.xss = 'chat'\"> script?")
    chat.get_by_role("button", name="Ask").click()
    expect(page.locator("#chat-log")).to_contain_text("onerror=", timeout=30_000)
    shot(page, "shown")
    assert page.evaluate("() => window.xss") is None
    for link in page.locator("main a").all():
        assert not (link.get_attribute("href") or "").lower().startswith("javascript:")


@pytest.fixture(scope="module")
def api_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``ocrchat-server serve --no-ui`` with one account: its URL and token."""
    data_dir = tmp_path_factory.mktemp("no-ui") / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "api-only")
    with LiveServer(data_dir, workers=1, extra_args=["--no-ui"]) as server:
        yield server.url, token


def test_no_ui_serves_the_api_alone(api_only: tuple[str, str]) -> None:
    url, token = api_only
    for path in ("/", "/signin", "/jobs", "/account", "/static/app.js"):
        assert httpx.get(f"{url}{path}", timeout=30).status_code == 404, path
    account = httpx.get(
        f"{url}/api/v1/account/", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert account.status_code == 200
    assert account.json()["name"] == "api-only"


def test_the_last_token_is_not_revoked_from_the_account_page(web: Web) -> None:
    """An account's only token is its only credential: the Revoke form answers 409 with
    the account page and the server's reason, and the token and the session live on."""
    (token,) = make_accounts(Settings(data_dir=web.live.server.data_dir), "web-carol")
    key_id = token.split("_")[1]
    with _session(web.url, token) as (client, csrf):
        refused = client.post(f"/account/tokens/{key_id}/revoke", data={"csrf": csrf})
        assert refused.status_code == 409
        assert "<h1>Account</h1>" in refused.text
        assert "the account&#39;s only API token" in refused.text
        assert client.get("/jobs").status_code == 200
    still = httpx.get(
        f"{web.url}/api/v1/account/", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert still.status_code == 200


def test_the_pages_count_against_the_accounts_rate_limit(tmp_path: Path) -> None:
    """The web app's pages are requests of the account like the API's: past the server's
    requests a minute, a page answers 429 with the reason and ``Retry-After``, as a page."""
    data_dir = tmp_path / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "busy")
    settings = Settings(data_dir=data_dir, workers=1, requests_per_minute=3)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        csrf = _signed_in(client, token)
        assert csrf
        answers = [client.get("/jobs") for _ in range(4)]
    limited = answers[-1]
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html")
    assert "requests in a minute" in limited.text
    assert int(limited.headers["retry-after"]) >= 1
