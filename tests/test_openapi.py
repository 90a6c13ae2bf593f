"""schemathesis against ``GET /api/v1/openapi.json`` and a real server (issue 14): no request
it generates from the document gets a server error, and every answer fits the document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ocrchat_server.settings import Settings
from tests.documents import numbered_pdf
from tests.live import LiveServer, make_accounts


@pytest.fixture(scope="module")
def openapi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    data_dir = tmp_path_factory.mktemp("openapi") / "data"
    (token,) = make_accounts(Settings(data_dir=data_dir), "alice")
    # schemathesis sends hundreds of requests a minute from one account
    with LiveServer(data_dir, workers=1, extra_args=["--requests-per-minute", "0"]) as server:
        yield server, token


@pytest.fixture(scope="module")
def api_schema(openapi_server: tuple[LiveServer, str]) -> schemathesis.BaseSchema:
    server, _ = openapi_server
    return schemathesis.openapi.from_url(f"{server.url}/api/v1/openapi.json")


def test_the_document_is_served_without_a_token(openapi_server: tuple[LiveServer, str]) -> None:
    server, _ = openapi_server
    document = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/ocr/" in document["paths"]
    assert set(document["components"]["schemas"]) >= {"Job", "Page", "Account", "Error"}


def test_the_server_keeps_to_its_document(
    api_schema: schemathesis.BaseSchema, openapi_server: tuple[LiveServer, str]
) -> None:
    """Every operation, with requests hypothesis draws from its schema (schemathesis's
    strategies, run here rather than through its pytest plugin)."""
    server, token = openapi_server
    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
    ]
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document's every operation loads
        operations.append(result.ok())
    assert len(operations) >= 10
    for operation in operations:

        @settings(
            max_examples=50,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(
                base_url=server.url,
                headers={"Authorization": f"Bearer {token}"},
                checks=checks,
            )

        call()


def test_the_server_reads_a_document_after_them(openapi_server: tuple[LiveServer, str]) -> None:
    """After the generated requests, the server still reads a document."""
    server, token = openapi_server
    job = httpx.post(
        f"{server.url}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("a.pdf", numbered_pdf(1))},
        timeout=120,
    ).json()
    assert job["status"] == "done"
