"""The ``ocrchat`` command against a real uvicorn, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ocrchat._cli import (
    EXIT_AUTH,
    EXIT_JOB_FAILED,
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    main,
)
from tests.conftest import Live
from tests.documents import image_bytes, numbered_pdf, render_page


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "invoice.png").write_bytes(
        image_bytes(render_page([["INVOICE 2041", "Total due: 215 dollars"]]), "PNG")
    )
    (tmp_path / "report.pdf").write_bytes(numbered_pdf(7))
    broken = image_bytes(render_page([["x"]]), "JPEG")
    (tmp_path / "broken.jpg").write_bytes(broken[: len(broken) // 3])
    return tmp_path


def ocrchat(live: Live, *args: str, token: str | None = None) -> Result:
    env = {"OCRCHAT_BASE_URL": live.url, "OCRCHAT_API_TOKEN": token or live.alice}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_submit_prints_the_markdown_of_a_small_file(live: Live, files: Path) -> None:
    result = ocrchat(live, "submit", str(files / "invoice.png"), "--language", "eng")
    assert result.exit_code == 0, result.output
    assert "INVOICE 2041" in result.stdout
    assert "done" in result.stderr


def test_submit_wait_json_then_get_download_account(live: Live, files: Path) -> None:
    result = ocrchat(
        live, "submit", str(files / "report.pdf"), "--wait", "--interval", "0.3", "--json"
    )
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["status"] == "done"
    assert job["page_count"] == 7
    assert "OCR" in result.stderr  # the progress bar's label

    got = ocrchat(live, "get", job["uuid"])
    assert got.exit_code == 0
    assert got.stdout.startswith(f"{job['uuid']}  done  7 pages  confidence ")

    out = files / "report.txt"
    downloaded = ocrchat(live, "download", job["uuid"], "--format", "txt", "-o", str(out))
    assert downloaded.exit_code == 0
    assert "Page 7 of the quarterly report" in out.read_text()
    to_stdout = ocrchat(live, "download", job["uuid"], "--format", "json", "-o", "-")
    assert json.loads(to_stdout.stdout)["uuid"] == job["uuid"]

    me = ocrchat(live, "account", "--json")
    assert json.loads(me.stdout)["name"] == "alice"


def test_submit_with_format_writes_the_file(live: Live, files: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    result = ocrchat(live, "submit", str(files / "invoice.png"), "--format", "txt", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "INVOICE 2041" in out.read_text()


def test_exit_codes_tell_failures_apart(live: Live, files: Path) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert ocrchat(live, "get", missing).exit_code == EXIT_NOT_FOUND
    assert ocrchat(live, "account", token="ocr_nobody_x").exit_code == EXIT_AUTH
    failed = ocrchat(live, "submit", str(files / "broken.jpg"), "--wait")
    assert failed.exit_code == EXIT_JOB_FAILED
    assert "could not be decoded" in failed.stderr
    # downloading the failed job is its failure too, not "not ready"
    failed_job = json.loads(ocrchat(live, "submit", str(files / "broken.jpg"), "--json").stdout)
    download = ocrchat(
        live, "download", failed_job["uuid"], "--format", "txt", "-o", str(files / "x.txt")
    )
    assert download.exit_code == EXIT_JOB_FAILED
    assert "could not be decoded" in download.stderr
    # --ocr force: OCRed, its 7 pages take seconds; its text layer would be read at once
    queued = json.loads(
        ocrchat(live, "submit", str(files / "report.pdf"), "--ocr", "force", "--json").stdout
    )
    not_ready = ocrchat(
        live, "download", queued["uuid"], "--format", "txt", "-o", str(files / "early.txt")
    )
    assert not_ready.exit_code == EXIT_NOT_READY
    bad = ocrchat(live, "submit", str(files / "invoice.png"), "--language", "klingon")
    assert bad.exit_code == 1
    assert "klingon" in bad.stderr
    # another account's job does not exist for Bob
    assert ocrchat(live, "get", queued["uuid"], token=live.bob).exit_code == EXIT_NOT_FOUND


def test_delete_tools_and_engines(live: Live, files: Path) -> None:
    job = json.loads(ocrchat(live, "submit", str(files / "invoice.png"), "--json").stdout)
    deleted = ocrchat(live, "delete", job["uuid"])
    assert deleted.exit_code == 0, deleted.output
    assert deleted.stdout.startswith(f"{job['uuid']}  deleted  0 pages given back")
    assert ocrchat(live, "get", job["uuid"]).exit_code == EXIT_NOT_FOUND
    assert ocrchat(live, "delete", job["uuid"]).exit_code == EXIT_NOT_FOUND

    tools = ocrchat(live, "tools")
    assert tools.exit_code == 0
    assert "extract-tables  [cpu,vlm]" in tools.stdout
    listed = json.loads(ocrchat(live, "tools", "--json").stdout)
    assert {tool["slug"] for tool in listed["tools"]} >= {"extract-tables", "translate"}

    engines = ocrchat(live, "engines")
    assert engines.exit_code == 0
    assert engines.stdout.startswith("cpu: ")
    assert "languages" in engines.stdout.splitlines()[0]
    assert any(line.startswith("vlm: ") for line in engines.stdout.splitlines())


def test_no_token_names_the_variable(live: Live) -> None:
    result = CliRunner().invoke(
        main, ["account"], env={"OCRCHAT_API_TOKEN": "", "OCRCHAT_BASE_URL": live.url}
    )
    assert result.exit_code == EXIT_AUTH
    assert "OCRCHAT_API_TOKEN" in result.stderr


def test_chat_and_history(live: Live, files: Path) -> None:
    job = json.loads(ocrchat(live, "submit", str(files / "invoice.png"), "--json").stdout)
    answer = ocrchat(live, "chat", job["uuid"], "What is the total due?")
    assert answer.exit_code == 0, answer.output
    assert "215 dollars" in answer.stdout
    assert "[p. 1] Total due: 215 dollars" in answer.stdout
    conversation = answer.stderr.split("conversation: ")[1].strip()
    again = ocrchat(
        live,
        "chat",
        job["uuid"],
        "And the invoice number?",
        "--conversation",
        conversation,
        "--json",
    )
    assert json.loads(again.stdout)["conversation"] == conversation
    shown = ocrchat(live, "history", job["uuid"])
    assert f"# conversation {conversation}" in shown.stdout
    assert shown.stdout.count("user:") == 2


def test_pages_jobs_and_the_servers_file_name(
    live: Live, files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted = ocrchat(live, "submit", str(files / "report.pdf"), "--pages", "2-3", "--json")
    assert submitted.exit_code == 0, submitted.output
    job = json.loads(submitted.stdout)
    assert job["page_selection"] == "2-3"
    assert [page["index"] for page in job["pages"]] == [1, 2]

    listed = ocrchat(live, "jobs", "--limit", "1")
    assert listed.exit_code == 0, listed.output
    (line,) = listed.stdout.splitlines()
    assert line.startswith(f"{job['uuid']}  done")
    assert line.endswith("2/2 pages  report.pdf")
    as_json = ocrchat(live, "jobs", "--limit", "3", "--json", "--status", "done")
    summaries = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert len(summaries) == 3
    assert summaries[0]["uuid"] == job["uuid"]
    assert {summary["status"] for summary in summaries} == {"done"}

    # without -o, the file is named as the server names it: the upload's name
    monkeypatch.chdir(tmp_path)
    downloaded = ocrchat(live, "download", job["uuid"], "--format", "md")
    assert downloaded.exit_code == 0, downloaded.output
    assert "Page 3 of the quarterly report" in (tmp_path / "report.md").read_text()

    # without --json, the summary says which pages were read besides the file's count
    plain = ocrchat(live, "submit", str(files / "report.pdf"), "--pages", "2-3")
    assert plain.exit_code == 0, plain.output
    assert "read: 2-3" in plain.output


def test_json_errors_are_json_on_stderr(live: Live, files: Path) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    result = ocrchat(live, "get", missing, "--json")
    assert result.exit_code == EXIT_NOT_FOUND
    assert result.stdout == ""
    error = json.loads(result.stderr)
    assert error["code"] == "not_found"
    assert error["status"] == 404
    assert error["request_id"]
    assert error["exit_code"] == EXIT_NOT_FOUND
    bad_pages = ocrchat(live, "submit", str(files / "report.pdf"), "--pages", "9", "--json")
    assert bad_pages.exit_code == 1
    error = json.loads(bad_pages.stderr)
    assert (error["code"], error["status"]) == ("pages_out_of_range", 400)
    assert error["details"] == {"page_count": 7}
