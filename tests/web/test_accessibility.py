"""axe-core (vendored in ``tests/data/axe``) on each page of the web app in Chromium: no
violation of impact "serious" or "critical" (a form field without a label, text too
faint to read, a button without a name, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.documents import TEST_DATA
from tests.web import require_playwright, sign_in

require_playwright()

from tests.web.conftest import OpenPage, Shot, Web  # noqa: E402

if TYPE_CHECKING:
    from ocrchat.models import Job

AXE = TEST_DATA / "axe" / "axe.min.js"
FAILING = ("serious", "critical")


def _readable(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"{violation['impact']}: {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {' '.join(node['target'])}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            lines.append(f"      {summary}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


@pytest.mark.parametrize(
    "where",
    ["/signin", "/jobs", "/jobs/<done job>", "/account"],
    ids=["signin", "jobs", "job", "account"],
)
def test_no_serious_accessibility_violations(
    web: Web, scan_job: Job, open_page: OpenPage, shot: Shot, where: str
) -> None:
    """``/jobs`` lists the session's scan (``scan_job``), and the job page is that
    finished job, with its boxes, text and chat. axe is added past the page's
    Content-Security-Policy, which (rightly) lets no inline script in."""
    page = open_page(bypass_csp=True)
    if where != "/signin":
        sign_in(page, web.alice)
    path = where.replace("<done job>", scan_job.uuid)
    response = page.goto(path)
    assert response is not None
    assert response.status == 200
    page.wait_for_load_state("load")
    shot(page, "checked")
    page.add_script_tag(path=AXE)
    results = page.evaluate("async () => await axe.run(document)")
    failing = [v for v in results["violations"] if v["impact"] in FAILING]
    assert not failing, f"axe-core on {path}:\n{_readable(failing)}"
