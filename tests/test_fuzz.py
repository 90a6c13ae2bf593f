"""Property-based fuzzing of the upload: its bytes, its name and its form fields (issue 14).

Whatever hypothesis sends, the answer is JSON with a documented status, never a server
error, nothing is charged for a refused upload, and the server still reads a real page
afterwards.
"""

from __future__ import annotations

import io
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.conftest import Server
from tests.documents import numbered_pdf
from tests.test_api import API

_DOCUMENTED = {200, 202, 400, 402, 408, 429, 503, 507}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (64, 32), 255).save(buffer, format="PNG")
    return buffer.getvalue()


_SEEDS = [_png(), numbered_pdf(1), b"%PDF-1.7\n", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"GIF89a"]

uploads = st.one_of(
    st.binary(max_size=2048),
    # a real file's head, then anything: truncated and polyglot files
    st.builds(
        lambda seed, cut, tail: seed[:cut] + tail,
        st.sampled_from(_SEEDS),
        st.integers(min_value=0, max_value=4096),
        st.binary(max_size=512),
    ),
)
names = st.one_of(st.none(), st.text(max_size=300))
field_values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["auto", "eng", "osd", "deu+eng", "cpu", "vlm", "ppocr", "force", "skip"]),
)
fields = st.dictionaries(
    st.sampled_from(["language", "tier", "engine", "ocr", "tool", "translate_to", "junk"]),
    field_values,
    max_size=4,
)


def _usage(server: Server) -> Any:
    return server.client.get("/api/v1/account/", headers=server.headers()).json()["usage"]


def test_any_upload_gets_a_documented_json_answer_and_the_server_goes_on(
    server: Server,
) -> None:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(content=uploads, name=names, form=fields)
    def one_upload(content: bytes, name: str | None, form: dict[str, str]) -> None:
        before = _usage(server)
        response = server.client.post(
            API,
            headers=server.headers(),
            files={"file": (name or "", content)},
            data=form,
        )
        assert response.status_code in _DOCUMENTED, response.text
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        if response.status_code >= 400:
            assert body["code"]
            assert body["error"]
            assert "Traceback" not in response.text
            assert _usage(server) == before  # a refused upload costs nothing

    one_upload()
    # the same server, after all of it, still reads a real page
    job = server.client.post(
        API, headers=server.headers(), files={"file": ("a.pdf", numbered_pdf(1))}
    ).json()
    assert job["status"] == "done"
