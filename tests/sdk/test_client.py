"""``ocrchat.Client`` against the real app (in process), ``AsyncClient`` against uvicorn."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import numpy
import pytest
from PIL import Image

import ocrchat
from tests.conftest import Live, Server
from tests.documents import image_bytes, numbered_pdf, render_page

PAGE = render_page([["INVOICE 2041 from Acme Corporation"], ["Total amount due: 215 dollars"]])


def sdk(server: Server, token: str | None = None) -> ocrchat.Client:
    # Starlette's TestClient is an httpx.Client that talks to the app in process.
    return ocrchat.Client(
        token or server.alice, base_url="http://testserver", http_client=server.client
    )


def test_submit_a_path_and_read_the_job(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "invoice.png"
    path.write_bytes(image_bytes(PAGE, "PNG"))
    client = sdk(server)

    job = client.submit(path, language="eng")

    assert isinstance(job, ocrchat.Job)
    assert job.status is ocrchat.JobStatus.DONE
    assert job.filename == "invoice.png"
    assert job.pages is not None
    assert "Acme Corporation" in job.pages[0].text
    assert job.pages[0].blocks[0].confidence > 0.5
    assert client.get(job) == job
    assert client.get(job.uuid) == job


def test_bytes_and_open_files_are_accepted(server: Server, tmp_path: Path) -> None:
    client = sdk(server)
    from_bytes = client.submit(image_bytes(PAGE, "JPEG"))
    path = tmp_path / "scan.png"
    path.write_bytes(image_bytes(PAGE, "PNG"))
    with path.open("rb") as file:
        from_file = client.submit(file)
    assert from_bytes.status is from_file.status is ocrchat.JobStatus.DONE
    assert from_file.filename == "scan.png"
    # as httpx and requests take a file: (filename, bytes)
    from_pair = client.submit(("invoice-2041.png", image_bytes(PAGE, "PNG")))
    assert from_pair.filename == "invoice-2041.png"
    assert from_pair.status is ocrchat.JobStatus.DONE


def test_poll_a_long_job_and_download_it(server: Server, tmp_path: Path) -> None:
    client = sdk(server)
    job = client.submit(numbered_pdf(7))
    # queued, or already begun by a free worker: not done in the POST
    assert job.status in (ocrchat.JobStatus.PENDING, ocrchat.JobStatus.PROCESSING)
    progress: list[int] = []

    done = client.poll(
        job,
        interval=0.2,
        timeout=300,
        on_progress=lambda j: progress.append(j.progress.pages_done if j.progress else 0),
    )

    assert done.status is ocrchat.JobStatus.DONE
    assert done.page_count == 7
    assert progress == sorted(progress)
    assert progress[-1] == 7
    text = client.download(done, "txt")
    assert client.download(done, "txt", tmp_path / "report.txt") == tmp_path / "report.txt"
    assert (tmp_path / "report.txt").read_bytes() == text
    assert text.decode().count("\f") == 6


def test_api_errors_become_exceptions(server: Server) -> None:
    client = sdk(server)
    with pytest.raises(ocrchat.BadRequestError) as caught:
        client.submit(b"not a document")
    assert caught.value.code == "unreadable_file"
    with pytest.raises(ocrchat.BadRequestError, match="klingon"):
        client.submit(image_bytes(PAGE, "PNG"), language="klingon")
    with pytest.raises(ocrchat.AuthenticationError):
        sdk(server, token="ocr_nobody_x").account()
    job = client.submit(numbered_pdf(6))
    with pytest.raises(ocrchat.JobNotReadyError):
        client.download(job, "txt")
    with pytest.raises(ocrchat.NotFoundError):
        sdk(server, token=server.bob).get(job)
    deleted = client.delete(job)
    assert isinstance(deleted, ocrchat.DeletedJob)
    assert (deleted.uuid, deleted.deleted) == (job.uuid, True)
    assert 0 <= deleted.refunded <= 6  # the pages not read yet were given back
    with pytest.raises(ocrchat.NotFoundError):
        client.get(job)
    # an id is one path segment, whatever it holds: no other endpoint is reached
    for odd in ("../account", "../../api/v1/account", "a/b", "?x=1", "%2e%2e"):
        with pytest.raises(ocrchat.NotFoundError):
            client.get(odd)


def test_a_failed_job_raises_from_poll(server: Server) -> None:
    broken = image_bytes(PAGE, "JPEG")
    client = sdk(server)
    job = client.submit(broken[: len(broken) // 3])
    assert job.status is ocrchat.JobStatus.FAILED
    with pytest.raises(ocrchat.JobFailedError) as caught:
        client.poll(job)
    assert caught.value.job.error == "Page 1 could not be decoded."
    # its download says it failed, and why (not "not ready": it never will be)
    with pytest.raises(ocrchat.JobFailedError) as caught:
        client.download(job, "txt")
    assert caught.value.job.uuid == job.uuid
    assert caught.value.job.error == "Page 1 could not be decoded."
    with pytest.raises(ocrchat.JobFailedError):
        client.chat(job, "What does it say?")


def test_account_and_history(server: Server) -> None:
    client = sdk(server)
    job = client.submit(image_bytes(PAGE, "PNG"))
    me = client.account()
    assert me.name == "alice"
    assert me.usage.day == 1
    assert me.caps.day is None  # the pro plan
    assert (me.costs.cpu, me.costs.vlm) == (1, 3)
    assert me.resets.day is not None
    assert me.resets.month is not None
    assert me.resets.month >= me.resets.day
    assert me.priority == 10
    assert client.history(job).conversations == []


def test_tools_and_engines(server: Server) -> None:
    client = sdk(server)
    tools = {tool.slug: tool for tool in client.tools().tools}
    assert set(tools) == {"extract-tables", "handwriting-to-text", "translate"}
    assert tools["extract-tables"].tiers == [ocrchat.Tier.CPU, ocrchat.Tier.VLM]
    # no language model configured: translate says so, and what it would need
    assert not tools["translate"].ready
    assert tools["translate"].needs == "translate_to"
    assert tools["translate"].detail
    assert "--llm-url" in tools["translate"].detail

    cpu, vlm = client.engines().engines
    assert (cpu.tier, cpu.engine, cpu.ready) == (ocrchat.Tier.CPU, "tesseract", True)
    assert cpu.languages
    assert "eng" in cpu.languages
    assert "osd" not in cpu.languages
    assert cpu.version
    assert cpu.version[0].isdigit()
    assert (vlm.tier, vlm.configured, vlm.ready) == (ocrchat.Tier.VLM, False, False)
    assert vlm.detail


def ink_inside(image: Image.Image, boxes: list[tuple[int, int, int, int]]) -> float:
    """The share of the image's dark pixels that lie inside any of ``boxes`` (give or take
    4 pixels)."""
    ink = numpy.asarray(image.convert("L")) < 128
    covered = numpy.zeros_like(ink)
    margin = 4
    for x0, y0, x1, y1 in boxes:
        covered[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin] = True
    return float((ink & covered).sum() / ink.sum())


def test_boxes_of_a_page_read_sideways_land_on_the_image_sent(server: Server) -> None:
    """The server turned the scan upright to read it (rotation 90): its boxes, in the turned
    image's pixels, are drawn on the sideways image the user has, where its ink is (they
    were stretched over it as if it were upright)."""
    sideways = PAGE.rotate(90, expand=True)  # counter-clockwise: the server turns it back
    job = sdk(server).submit(image_bytes(sideways, "PNG"), language="eng")
    assert job.pages is not None
    page = job.pages[0]
    assert page.rotation == 90
    assert page.original_size == sideways.size

    red = job.draw_boxes(sideways, color="#ff0000", width=1)
    boxes = [page.to_original(block.bbox) for block in page.blocks]
    assert ink_inside(sideways, boxes) > 0.9
    for x0, y0, x1, y1 in boxes:  # what draw_boxes drew is those boxes
        assert red.getpixel((x0, y0)) == red.getpixel((x1, y1)) == (255, 0, 0)
    # each box is as tall as its line is long: the line runs down the sideways page
    widest = max(page.blocks, key=lambda block: block.bbox[2] - block.bbox[0])
    x0, y0, x1, y1 = page.to_original(widest.bbox)
    assert y1 - y0 > 3 * (x1 - x0)
    # and on the image as read, turned upright, the boxes are the page's own
    upright = sideways.rotate(-90, expand=True)
    assert job.draw_boxes(upright, upright=True).size == upright.size
    assert ink_inside(upright, [block.bbox for block in page.blocks]) > 0.9


def test_a_job_renders_in_jupyter_and_draws_its_boxes(server: Server) -> None:
    job = sdk(server).submit(image_bytes(PAGE, "PNG"), language="eng")
    shown = job._repr_markdown_()
    assert shown.startswith(f"OCR job `{job.uuid}`: **done** · 1 page · confidence ")
    assert "Acme Corporation" in shown

    thumbnail = PAGE.resize((PAGE.width // 2, PAGE.height // 2))
    drawn = job.draw_boxes(thumbnail, color="red")
    assert drawn.size == thumbnail.size
    assert job.pages is not None
    x0, y0, _, _ = job.pages[0].blocks[0].bbox
    assert drawn.getpixel((x0 // 2, y0 // 2 + 4)) == (255, 0, 0)  # on the scaled box's edge
    assert thumbnail.convert("RGB").getpixel((5, 5)) == drawn.getpixel((5, 5))  # away from boxes
    with pytest.raises(ValueError, match="no page with index 3"):
        job.draw_boxes(thumbnail, page=3)


def test_ocr_does_the_whole_job_in_one_call(server: Server) -> None:
    client = sdk(server)
    seen: list[ocrchat.Job] = []
    # seven pages: queued, then polled until done
    job = client.ocr(numbered_pdf(7), ocr="force", interval=0.2, on_progress=seen.append)
    assert job.status is ocrchat.JobStatus.DONE
    assert job.pages is not None
    assert len(job.pages) == 7
    assert seen
    assert seen[-1] == job
    # one page, read in the request: returned as it came
    small = client.ocr(image_bytes(PAGE, "PNG"), language="eng")
    assert small.text is not None
    assert "Acme Corporation" in small.text
    # a small file that fails in the request raises, as poll() does (submit() returns it)
    broken = image_bytes(PAGE, "JPEG")
    with pytest.raises(ocrchat.JobFailedError) as caught:
        client.ocr(broken[: len(broken) // 3])
    assert caught.value.job.error == "Page 1 could not be decoded."


def test_the_async_client_on_a_real_server(live: Live) -> None:
    png = io.BytesIO()
    PAGE.save(png, format="PNG")

    async def main() -> list[ocrchat.Job]:
        async with ocrchat.AsyncClient(live.alice, base_url=live.url) as client:
            small, large = await asyncio.gather(
                client.submit(png.getvalue(), language="eng"),
                client.submit(numbered_pdf(7), language="eng"),
            )
            done = await client.poll(large, interval=0.2, timeout=300)
            again = await client.ocr(numbered_pdf(2), interval=0.2)
            assert again.page_count == 2
            assert again.status is ocrchat.JobStatus.DONE
            text = await client.download(done, "txt")
            assert b"Page 7 of the quarterly report" in text
            assert (await client.account()).name == "alice"
            with pytest.raises(ocrchat.NotFoundError):
                await client.get("00000000-0000-4000-8000-000000000000")
            return [small, done]

    small, done = asyncio.run(main())
    assert small.status is done.status is ocrchat.JobStatus.DONE
    assert small.text is not None
    assert "Acme Corporation" in small.text
    assert done.page_count == 7


def test_an_unreachable_server_is_a_connection_error() -> None:
    with (
        ocrchat.Client(
            "ocr_x", base_url="http://127.0.0.1:9", max_retries=1, max_retry_seconds=2
        ) as client,
        pytest.raises(ocrchat.APIConnectionError),
    ):
        client.account()


def test_page_images_for_boxes_can_come_from_anywhere(server: Server) -> None:
    # the same page at twice the size still lands the boxes on the words
    job = sdk(server).submit(image_bytes(PAGE, "PNG"), language="eng")
    big = PAGE.resize((PAGE.width * 2, PAGE.height * 2), Image.Resampling.NEAREST)
    drawn = job.draw_boxes(big, width=1)
    assert job.pages is not None
    x0, y0, x1, _ = job.pages[0].blocks[0].bbox
    assert drawn.getpixel(((x0 + x1), y0 * 2)) == (255, 0, 0)
