"""``ocrchat-server accounts create`` and ``tokens create``: tokens that work, printed last."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from starlette.testclient import TestClient

from ocrchat_server.app import create_app
from ocrchat_server.cli import main
from ocrchat_server.settings import Settings
from tests.fake_surya import FakeSurya


def test_accounts_and_tokens(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runner = CliRunner()
    created = runner.invoke(main, ["accounts", "create", "carol", "--data-dir", str(data_dir)])
    assert created.exit_code == 0, created.output
    first = created.output.strip().splitlines()[-1]
    again = runner.invoke(main, ["accounts", "create", "carol", "--data-dir", str(data_dir)])
    assert again.exit_code != 0
    assert "already exists" in again.output

    added = runner.invoke(
        main, ["tokens", "create", "carol"], env={"OCRCHAT_DATA_DIR": str(data_dir)}
    )
    assert added.exit_code == 0
    second = added.output.strip().splitlines()[-1]
    assert second != first
    missing = runner.invoke(main, ["tokens", "create", "nobody", "--data-dir", str(data_dir)])
    assert missing.exit_code != 0
    assert "No account named 'nobody'" in missing.output

    with TestClient(create_app(Settings(data_dir=data_dir, workers=1))) as client:
        for token in (first, second):
            me = client.get("/api/v1/account/", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["name"] == "carol"


def test_doctor_says_what_is_there_and_how_to_fix_what_is_not(tmp_path: Path) -> None:
    runner = CliRunner()
    healthy = runner.invoke(main, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "ok   tesseract: tesseract 5" in healthy.output
    # the server reads with the same Tesseract as the command (tesserocr built against it)
    assert "ok   tesseract library: tesserocr on Tesseract 5" in healthy.output
    assert "ok   language=auto" in healthy.output
    assert "ok   surya-ocr: installed" in healthy.output
    assert "--   vlm server: not configured" in healthy.output
    languages = next(line for line in healthy.output.splitlines() if "language models" in line)
    assert int(languages.split(": ")[1].split()[0]) > 100

    bare = runner.invoke(main, ["doctor"], env={"PATH": str(tmp_path)})  # nothing installed
    assert bare.exit_code == 1
    assert "FAIL tesseract: not found" in bare.output
    assert "fix: apt-get install poppler-utils" in bare.output


def test_doctor_checks_the_vlm_server_it_is_given() -> None:
    runner = CliRunner()
    fake = FakeSurya().start()
    try:
        up = runner.invoke(main, ["doctor", "--vlm-url", fake.url])
        assert up.exit_code == 0, up.output
        assert f"ok   vlm server: {fake.url} serves datalab-to/surya-ocr-2" in up.output

        wrong = runner.invoke(main, ["doctor", "--vlm-url", fake.url, "--vlm-model", "other"])
        assert wrong.exit_code == 1
        assert "serves 'datalab-to/surya-ocr-2', not 'other'" in wrong.output
    finally:
        fake.stop()
    down = runner.invoke(main, ["doctor", "--vlm-url", fake.url])
    assert down.exit_code == 1
    assert "FAIL vlm server" in down.output
    assert "cannot be reached" in down.output
