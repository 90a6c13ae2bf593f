"""Chat with real OCRed documents: grounded answers, verbatim citations, conversations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ocrchat_server.app import create_app
from ocrchat_server.chat.answers import NOT_IN_DOCUMENT
from ocrchat_server.settings import Settings
from tests.conftest import Server
from tests.documents import image_bytes, render_page, text_pdf
from tests.fake_llm import FakeLLM, Scripted
from tests.live import make_accounts
from tests.test_api import API, assert_error, submit, wait_until_finished

INVOICE = render_page(
    [
        ["INVOICE 2041"],
        ["Acme Corporation, 12 Harbour Road, Bristol", "Bill to: Northwind Traders"],
        [
            "Item: Consulting services, 10 hours",
            "Subtotal: 200.00 USD",
            "Tax: 15.00 USD",
            "Total: 215.00 USD",
            "Due date: March 3, 2026",
        ],
    ],
    size=(1654, 1400),
)
CONTRACT = [
    [
        "SERVICE AGREEMENT",
        "1. Parties",
        "This agreement is made between Acme Corporation and Northwind Traders.",
        "2. Services",
        "Acme will provide consulting services each month.",
    ],
    [
        "3. Termination",
        "Either party may terminate this agreement with thirty days written notice.",
        "4. Payment",
        "Invoices are payable within fourteen days of receipt.",
    ],
    [
        "5. Governing law",
        "This agreement is governed by the laws of England.",
        "Signed by Maria Keller for Acme Corporation.",
    ],
]
LETTER = render_page(
    [
        ["Sehr geehrte Frau Schmidt,"],
        [
            "wir bestätigen Ihre Bestellung vom 12. Mai.",
            "Die Lieferung erfolgt am 20. Juni nach Hamburg.",
        ],
        ["Mit freundlichen Grüßen", "Unterschrieben von Jonas Weber"],
    ]
)


def ask(server: Server, uuid: str, message: str, conversation: str | None = None) -> Any:
    body = {"message": message, **({"conversation": conversation} if conversation else {})}
    response = server.client.post(f"/api/v1/chat/{uuid}/", json=body, headers=server.headers())
    assert response.status_code == 200, response.text
    return response.json()


def assert_grounded(job: dict[str, Any], reply: dict[str, Any], page: int) -> None:
    """Cites ``page`` (1-based), every snippet verbatim in its page's text, with a box."""
    citations = reply["message"]["citations"]
    assert citations
    assert page in {c["page"] for c in citations}
    for citation in citations:
        text = job["pages"][citation["page"] - 1]["text"]
        assert citation["snippet"] in text
        assert "\n" not in citation["snippet"]
        assert len(citation["bbox"]) == 4


@pytest.fixture
def invoice(server: Server) -> dict[str, Any]:
    job: dict[str, Any] = submit(
        server, image_bytes(INVOICE, "PNG"), "invoice.png", language="eng"
    ).json()
    return job


def test_the_invoice_total_and_due_date(server: Server, invoice: dict[str, Any]) -> None:
    reply = ask(server, invoice["uuid"], "What is the invoice total and due date?")
    content = reply["message"]["content"]
    assert "215.00" in content
    assert "March 3" in content
    assert reply["message"]["role"] == "assistant"
    assert_grounded(invoice, reply, page=1)


def test_a_follow_up_continues_the_conversation(server: Server, invoice: dict[str, Any]) -> None:
    first = ask(server, invoice["uuid"], "What is the total?")
    assert "215.00" in first["message"]["content"]
    follow_up = ask(server, invoice["uuid"], "and when is it due?", first["conversation"])
    assert follow_up["conversation"] == first["conversation"]
    assert "March 3" in follow_up["message"]["content"]

    other = ask(server, invoice["uuid"], "Who is the bill for?")
    history = server.client.get(
        f"/api/v1/chat/{invoice['uuid']}/history/", headers=server.headers()
    ).json()
    conversations = history["conversations"]
    assert [c["conversation"] for c in conversations] == [
        first["conversation"],
        other["conversation"],
    ]
    messages = conversations[0]["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "What is the total?"),
        ("assistant", first["message"]["content"]),
        ("user", "and when is it due?"),
        ("assistant", follow_up["message"]["content"]),
    ]
    assert all(m["created_at"] for m in messages)
    assert messages[1]["citations"] == first["message"]["citations"]


def test_what_the_document_does_not_say(server: Server, invoice: dict[str, Any]) -> None:
    reply = ask(server, invoice["uuid"], "What is the capital of France?")
    assert reply["message"]["content"] == NOT_IN_DOCUMENT
    assert reply["message"]["citations"] == []


def test_a_contract_of_several_pages(server: Server) -> None:
    job = submit(server, text_pdf(CONTRACT), "contract.pdf", language="eng").json()
    job = wait_until_finished(server, job["uuid"])
    assert job["page_count"] == 3

    termination = ask(server, job["uuid"], "What does section 3 say about termination?")
    assert "thirty days written notice" in termination["message"]["content"]
    assert_grounded(job, termination, page=2)
    signed = ask(server, job["uuid"], "Who signed the agreement?")
    assert "Maria Keller" in signed["message"]["content"]
    assert_grounded(job, signed, page=3)


def test_a_letter_in_german(server: Server) -> None:
    job = submit(server, image_bytes(LETTER, "PNG"), "brief.png", language="de").json()
    delivery = ask(server, job["uuid"], "Wann erfolgt die Lieferung?")
    assert "20. Juni" in delivery["message"]["content"]
    assert_grounded(job, delivery, page=1)
    signed = ask(server, job["uuid"], "Wer hat den Brief unterschrieben?")
    assert "Jonas Weber" in signed["message"]["content"]
    nothing = ask(server, job["uuid"], "Wie hoch ist der Rabatt?")
    assert nothing["message"]["content"] == NOT_IN_DOCUMENT


def test_chat_errors(server: Server, invoice: dict[str, Any]) -> None:
    url = f"/api/v1/chat/{invoice['uuid']}/"
    assert_error(
        server.client.post(url, content=b"not json", headers=server.headers()), 400, "invalid_json"
    )
    assert_error(
        server.client.post(url, json={"text": "hi"}, headers=server.headers()),
        400,
        "missing_message",
    )
    assert_error(
        server.client.post(url, json={"message": "x" * 5000}, headers=server.headers()),
        400,
        "message_too_long",
    )
    assert_error(
        server.client.post(
            url, json={"message": "Total?", "conversation": "nope"}, headers=server.headers()
        ),
        404,
        "conversation_not_found",
    )
    assert_error(
        server.client.post(url, json={"message": "Total?"}, headers=server.headers(server.bob)),
        404,
        "not_found",
    )
    assert_error(
        server.client.get(url + "history/", headers=server.headers(server.bob)), 404, "not_found"
    )


def test_deleting_the_job_deletes_its_conversations(
    server: Server, invoice: dict[str, Any]
) -> None:
    reply = ask(server, invoice["uuid"], "What is the total?")
    server.client.delete(f"{API}{invoice['uuid']}/", headers=server.headers())
    services = server.client.app.state.services  # type: ignore[attr-defined]
    assert services.backend.conversations.messages(reply["conversation"]) == []
    assert services.backend.conversations.conversations(invoice["uuid"]) == []


# --- with a language model (a stand-in: see tests/fake_llm.py) -------------------------


@pytest.fixture
def llm_server(tmp_path: Path) -> Iterator[tuple[TestClient, FakeLLM, str, dict[str, Any]]]:
    with FakeLLM() as llm:
        settings = Settings(
            data_dir=tmp_path / "data",
            workers=1,
            llm_url=llm.url,
            llm_model="tiny-model",
            llm_timeout=2,
        )
        (token,) = make_accounts(settings, "alice")
        with TestClient(create_app(settings)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            job = client.post(
                API,
                headers=headers,
                data={"language": "eng"},
                files={"file": ("invoice.png", image_bytes(INVOICE, "PNG"))},
            ).json()
            yield client, llm, token, job


def test_the_model_answers_from_retrieved_lines_and_its_citations_are_checked(
    llm_server: tuple[TestClient, FakeLLM, str, dict[str, Any]],
) -> None:
    client, llm, token, job = llm_server
    llm.reply(
        "The total is 215.00 USD, due on March 3, 2026.",
        [
            {"page": 1, "snippet": "Total: 215.00 USD"},
            {"page": 1, "snippet": "Total: 999.00 USD"},  # not in the document: dropped
            {"page": 7, "snippet": "Due date: March 3, 2026"},  # no such page: dropped
        ],
    )
    response = client.post(
        f"/api/v1/chat/{job['uuid']}/",
        json={"message": "Total?"},
        headers={"Authorization": f"Bearer {token}"},
    )
    reply = response.json()["message"]
    assert reply["content"] == "The total is 215.00 USD, due on March 3, 2026."
    assert [(c["page"], c["snippet"]) for c in reply["citations"]] == [(1, "Total: 215.00 USD")]
    request = llm.requests[-1]
    assert request["model"] == "tiny-model"
    prompt = request["messages"][-1]["content"]
    assert "[page 1] Total: 215.00 USD" in prompt
    assert "Question: Total?" in prompt


def test_a_model_answer_without_a_true_citation_becomes_not_in_document(
    llm_server: tuple[TestClient, FakeLLM, str, dict[str, Any]],
) -> None:
    client, llm, token, job = llm_server
    llm.reply("The total is 999 USD.", [{"page": 1, "snippet": "Total: 999.00 USD"}])
    reply = client.post(
        f"/api/v1/chat/{job['uuid']}/",
        json={"message": "Total?"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["message"]
    assert reply == {**reply, "content": NOT_IN_DOCUMENT, "citations": []}


def test_a_failing_or_slow_model_is_a_clear_error(
    llm_server: tuple[TestClient, FakeLLM, str, dict[str, Any]],
) -> None:
    client, llm, token, job = llm_server
    url = f"/api/v1/chat/{job['uuid']}/"
    headers = {"Authorization": f"Bearer {token}"}
    llm.next = Scripted(status=500)
    assert_error(client.post(url, json={"message": "Total?"}, headers=headers), 502, "llm_error")
    llm.next = Scripted(content="{}", delay=3)
    assert_error(client.post(url, json={"message": "Total?"}, headers=headers), 504, "llm_timeout")
    # nothing made up was stored
    history = client.get(url + "history/", headers=headers).json()
    assert history == {"conversations": []}


def test_retrieval_reads_chinese_without_spaces() -> None:
    """CJK text has no spaces between words: character pairs still find the line."""
    from ocrchat.models import Block, Page
    from ocrchat_server.chat.answers import RetrievalAnswerer
    from ocrchat_server.chat.retrieval import JobIndex

    lines = ["发票号码：2041", "发票总额：215元", "付款日期：3月3日"]
    page = Page(
        index=0,
        text="\n".join(lines),
        language="chi_sim",
        blocks=[
            Block(text=line, bbox=(0, 40 * n, 300, 40 * n + 30), confidence=0.9)
            for n, line in enumerate(lines)
        ],
    )
    answer = RetrievalAnswerer().answer(JobIndex([page]), "总额是多少？", [])
    assert [c.snippet for c in answer.citations] == ["发票总额：215元"]
    assert "215" in answer.content
    nothing = RetrievalAnswerer().answer(JobIndex([page]), "天气怎么样？", [])
    assert nothing.content == NOT_IN_DOCUMENT
