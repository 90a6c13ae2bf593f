"""Plans, charges and quotas: never overdrawn, never charged twice or for nothing."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from ocrchat.models import Tier
from ocrchat_server.app import create_app
from ocrchat_server.cli import main
from ocrchat_server.jobs.embedded import open_backend
from ocrchat_server.jobs.plans import Plans, PlansError
from ocrchat_server.settings import Settings
from tests.conftest import MovableClock, Server
from tests.documents import image_bytes, numbered_pdf, render_page
from tests.live import LiveServer, backend_of, make_accounts
from tests.test_api import assert_error

API = "/api/v1/ocr/"
ONE_PAGE = image_bytes(render_page([["One page to pay for"]]), "PNG")
PLANS = """
[plans.small]
daily = 5
monthly = 8
pages_per_file = 20
priority = 0
"""


@attrs.frozen
class Metered:
    client: TestClient
    settings: Settings
    clock: MovableClock
    token: str

    def post(self, content: bytes, **headers: str) -> httpx.Response:
        response: httpx.Response = self.client.post(
            API,
            headers={"Authorization": f"Bearer {self.token}", **headers},
            files={"file": ("doc", content)},
        )
        return response

    def account(self) -> dict[str, Any]:
        me: dict[str, Any] = self.client.get(
            "/api/v1/account/", headers={"Authorization": f"Bearer {self.token}"}
        ).json()
        return me


@pytest.fixture
def metered(tmp_path: Path, clock: MovableClock) -> Iterator[Metered]:
    plans_file = tmp_path / "plans.toml"
    plans_file.write_text(PLANS)
    settings = Settings(data_dir=tmp_path / "data", workers=2, plans=Plans.load(plans_file))
    (token,) = make_accounts(settings, "sam", plan="small")
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Metered(client=client, settings=settings, clock=clock, token=token)


def test_a_file_over_what_is_left_is_refused_before_any_work(metered: Metered) -> None:
    body = assert_error(metered.post(numbered_pdf(6)), 402, "quota_exceeded")
    assert body["limit"] == "daily"
    assert (body["used"], body["cap"], body["needed"]) == (0, 5, 6)
    assert body["resets_at"] == "2026-03-02T00:00:00+00:00"
    assert "daily page allowance of the small plan" in body["error"]
    assert backend_of(metered.client).storage.uploads_held() == []
    assert metered.account()["usage"] == {"day": 0, "month": 0}

    assert metered.post(numbered_pdf(5)).json()["status"] == "done"
    assert metered.account()["usage"] == {"day": 5, "month": 5}


def test_a_failed_job_is_not_charged(metered: Metered) -> None:
    broken = image_bytes(render_page([["x"]]), "JPEG")
    job = metered.post(broken[: len(broken) // 3]).json()
    assert job["status"] == "failed"
    assert metered.account()["usage"] == {"day": 0, "month": 0}


def test_the_daily_allowance_resets_and_the_monthly_one_holds(metered: Metered) -> None:
    assert metered.post(numbered_pdf(5)).status_code == 200
    body = assert_error(metered.post(ONE_PAGE), 402, "quota_exceeded")
    assert (body["limit"], body["used"], body["cap"]) == ("daily", 5, 5)

    metered.clock.advance(dt.timedelta(days=1))  # a new UTC day
    assert metered.account()["usage"] == {"day": 0, "month": 5}
    assert metered.post(numbered_pdf(3)).status_code == 200
    body = assert_error(metered.post(ONE_PAGE), 402, "quota_exceeded")
    assert (body["limit"], body["used"], body["cap"]) == ("monthly", 8, 8)
    assert body["resets_at"] == "2026-04-01T00:00:00+00:00"

    metered.clock.advance(dt.timedelta(days=31))  # April: both allowances are back
    assert metered.account()["usage"] == {"day": 0, "month": 0}
    assert metered.post(ONE_PAGE).status_code == 200


def test_credits_are_spent_once_the_allowance_is_used_up(metered: Metered) -> None:
    backend = open_backend(metered.settings)
    backend.accounts.add_credits("sam", 3)
    backend.close()
    assert metered.post(numbered_pdf(4)).status_code == 200
    assert metered.post(numbered_pdf(3)).status_code == 200  # 1 from the day, 2 credits
    me = metered.account()
    assert me["usage"]["day"] == 5
    assert me["credits"] == 1
    body = assert_error(metered.post(numbered_pdf(2)), 402, "quota_exceeded")
    assert body["credits"] == 1
    assert metered.post(ONE_PAGE).status_code == 200
    assert metered.account()["credits"] == 0


def test_the_plan_caps_pages_per_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    (token,) = make_accounts(settings, "fay", plan="free")
    with TestClient(create_app(settings)) as client:
        response = client.post(
            API,
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("big.pdf", numbered_pdf(21))},
        )
        body = assert_error(response, 402, "quota_exceeded")
        assert (body["limit"], body["used"], body["cap"]) == ("pages_per_file", 21, 20)
        me = client.get("/api/v1/account/", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["plan"] == "free"
    assert me["caps"] == {"day": 50, "month": 500, "pages_per_file": 20}
    assert me["usage"] == {"day": 0, "month": 0}
    assert me["costs"] == {"cpu": 1, "vlm": 3}


def test_deleting_a_running_job_gives_back_its_unread_pages(server: Server) -> None:
    headers = server.headers()
    job = server.client.post(
        API, headers=headers, files={"file": ("a.pdf", numbered_pdf(12))}
    ).json()
    assert server.client.get("/api/v1/account/", headers=headers).json()["usage"]["day"] == 12
    deleted = server.client.delete(f"{API}{job['uuid']}/", headers=headers).json()
    assert deleted["refunded"] > 0
    usage = server.client.get("/api/v1/account/", headers=headers).json()["usage"]
    assert usage["day"] == 12 - deleted["refunded"]  # what was read stays paid for


def test_paid_plans_are_served_first(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    (free_token,) = make_accounts(settings, "fay", plan="free")
    (pro_token,) = make_accounts(settings, "pat", plan="pro")
    with TestClient(create_app(settings)) as client:

        def post(token: str, pages: int) -> dict[str, Any]:
            # OCRed (ocr=force), a page takes a moment: read from its text layer in
            # milliseconds, the first job could end and the second begin before the pro
            # job is even posted
            job: dict[str, Any] = client.post(
                API,
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("a.pdf", numbered_pdf(pages))},
                data={"ocr": "force", "engine": "tesseract", "language": "eng"},
            ).json()
            return job

        def get(token: str, job: dict[str, Any]) -> dict[str, Any]:
            found: dict[str, Any] = client.get(
                f"{API}{job['uuid']}/", headers={"Authorization": f"Bearer {token}"}
            ).json()
            return found

        first_free = post(free_token, 8)
        second_free = post(free_token, 6)
        pro = post(pro_token, 6)
        while get(pro_token, pro)["status"] != "done":
            time.sleep(0.1)  # as a client polls (without a pause: over the rate limit)
        # the pro job overtook both free ones: the second has not started
        waiting = get(free_token, second_free)
        assert waiting["status"] == "pending"
        assert waiting["progress"]["pages_done"] == 0
        assert get(free_token, first_free)["status"] == "processing"


def test_concurrent_requests_never_overdraw(tmp_path: Path) -> None:
    """20 free accounts, each one page short of its daily cap, each send two 1-page files at
    the same moment from two threads: exactly one is served, the other gets 402.

    The plans file sets the free plan's daily cap to 1 page, so each account starts one
    page short without 49 pages of OCR first; the race is the same.
    """
    plans_file = tmp_path / "plans.toml"
    plans_file.write_text("[plans.free]\ndaily = 1\nmonthly = 500\npages_per_file = 20\n")
    data_dir = tmp_path / "data"
    tokens = make_accounts(
        Settings(data_dir=data_dir), *(f"user{n}" for n in range(20)), plan="free"
    )
    server = LiveServer(data_dir, workers=2, extra_args=["--plans", str(plans_file)])
    with server, httpx.Client(base_url=server.url, timeout=120) as client:
        for token in tokens:
            headers = {"Authorization": f"Bearer {token}"}
            barrier = threading.Barrier(2)
            statuses: list[int] = []

            def send(
                headers: dict[str, str] = headers,
                barrier: threading.Barrier = barrier,
                statuses: list[int] = statuses,
            ) -> None:
                barrier.wait()
                response = client.post(API, headers=headers, files={"file": ("p.png", ONE_PAGE)})
                statuses.append(response.status_code)
                if response.status_code == 402:
                    body = response.json()
                    # the winner's reservation is what the loser sees
                    assert (body["limit"], body["used"], body["cap"]) == ("daily", 1, 1)

            threads = [threading.Thread(target=send) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(statuses) == [200, 402]
            me = client.get("/api/v1/account/", headers=headers).json()
            assert me["usage"] == {"day": 1, "month": 1}  # what was actually read


def test_admin_commands(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(main, [*args, "--data-dir", data_dir])
        assert result.exit_code == 0, result.output
        return result.output

    run("accounts", "create", "ann", "--plan", "pro")
    assert "plan:       pro" in run("accounts", "show", "ann")
    shown = run("accounts", "credit", "ann", "250")
    assert "credits:    250 prepaid" in shown
    assert "plan:       free" in run("accounts", "plan", "ann", "free")
    assert "today:      0 of 50 credits" in run("accounts", "show", "ann")
    bad = runner.invoke(main, ["accounts", "plan", "ann", "gold", "--data-dir", data_dir])
    assert bad.exit_code != 0
    assert "no plan named 'gold'" in bad.output
    overdraw = runner.invoke(
        main, ["accounts", "credit", "--data-dir", data_dir, "ann", "--", "-300"]
    )
    assert overdraw.exit_code != 0
    assert "has only 250 credits" in overdraw.output


def test_plans_files_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "plans.toml"
    path.write_text(
        'default_plan = "team"\n[plans.team]\nmonthly = 10\npages_per_file = 5\n[costs]\nvlm = 5\n'
    )
    plans = Plans.load(path)
    assert plans.default_plan == "team"
    assert plans.get("team").daily is None
    assert plans.cost(Tier.VLM, 2) == 10
    assert plans.get("pro").monthly == 50_000  # built-ins stay
    for wrong in (
        "[plans.x]\ndaily = 5\n",
        "[plans.x]\npages_per_file = -1\n",
        'default_plan = "nope"\n',
        "[costs]\ngpu = 2\n",
        "colour = 1\n",
    ):
        path.write_text(wrong)
        with pytest.raises(PlansError):
            Plans.load(path)


def test_an_account_on_a_plan_no_longer_configured_gets_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    (token,) = make_accounts(settings, "tia", plan="team")  # from a plans file not given now
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        body = assert_error(
            client.get("/api/v1/account/", headers=headers), 500, "plan_not_configured"
        )
        assert "'team'" in body["error"]
        response = client.post(API, headers=headers, files={"file": ("p.png", ONE_PAGE)})
        assert_error(response, 500, "plan_not_configured")
        assert backend_of(client).storage.uploads_held() == []
