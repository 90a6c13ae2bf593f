"""Chat with a contract: OCR it, ask it questions, and print each answer with the lines
of the contract it rests on.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    python examples/chat_with_contract.py [PDF] ["question" ...]

Without PDF it reads ``data/contract.pdf`` beside this script, a three-page services
agreement (made by data/make_samples.py), and asks two questions in one conversation.

Answers come from the document's text only, with citations (page and line, word for
word). The server answers in a language model's own words when it is started with one
(``ocrchat-server serve --llm-url http://127.0.0.1:8080/v1 --llm-model NAME``, any
OpenAI-compatible endpoint: llama.cpp's llama-server, vLLM, Ollama, ...); without one it
quotes the lines that answer best. When that model fails or is too slow the server
answers 502 or 504, and this script says so and exits with status 1.
Needs only ``pip install ocrchat``.
"""

import sys
from pathlib import Path

import ocrchat

HERE = Path(__file__).resolve().parent
QUESTIONS = [
    "How much notice is needed to terminate the agreement?",
    "And what is the monthly fee?",  # a follow-up: the conversation keeps the context
]
pdf = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "data/contract.pdf"
questions = sys.argv[2:] or QUESTIONS

with ocrchat.Client() as client:  # $OCRCHAT_BASE_URL and $OCRCHAT_API_TOKEN
    job = client.ocr(pdf, language="eng")
    print(f"{pdf.name}: {job.page_count} pages read\n")
    conversation = None
    for question in questions:
        try:
            reply = client.chat(job, question, conversation=conversation)
        except ocrchat.ServerError as error:  # 5xx: 502 llm_error, 504 llm_timeout, ...
            sys.exit(
                f"The server could not answer ({error.status_code} {error.code}): "
                f"{error.message}\nIf it is started with --llm-url, check that the language "
                f"model runs there. Request id: {error.request_id}"
            )
        except ocrchat.APIStatusError as error:  # 4xx: a bad token, quota, no such job
            sys.exit(f"The question was refused: {error}")
        conversation = reply.conversation
        print(f"Q: {question}\nA: {reply.message.content}")
        for citation in reply.message.citations:
            print(f"   p. {citation.page}: {citation.snippet}")
        print()
