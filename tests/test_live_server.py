"""Against a real uvicorn on 127.0.0.1: what the server writes to its log."""

from __future__ import annotations

import httpx

from tests.conftest import Live


def test_tokens_never_reach_the_log(live: Live) -> None:
    server, token = live.server, live.alice
    wrong = "ocr_abcdefabcdef_this-token-is-wrong-and-secret"
    with httpx.Client(base_url=server.url, timeout=60) as client:
        ok = client.get("/api/v1/account/", params={"api_token": token})
        assert ok.status_code == 200
        assert client.get("/api/v1/account/", params={"api_token": wrong}).status_code == 401
        assert (
            client.get("/api/v1/account/", headers={"Authorization": f"Bearer {wrong}"}).status_code
            == 401
        )
    log = server.log.read_text()
    assert '"GET /api/v1/account/" 200' in log  # requests are logged ...
    assert token not in log  # ... without their token
    assert wrong not in log
    assert "api_token" not in log
