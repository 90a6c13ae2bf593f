"""The web app as a person uses it, in Chromium: sign in, upload a scan, watch it finish,
see its boxes over the page, download it, ask about it, manage tokens, sign out; at a
phone's width and from the keyboard too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from ocrchat_server.jobs.tokens import key_id_of
from tests.documents import numbered_pdf, text_pdf
from tests.web import require_playwright, sign_in

require_playwright()

from playwright.sync_api import Dialog, Locator, Page, expect  # noqa: E402

from tests.web.conftest import SCAN, Artifacts, OpenPage, Shot, Web  # noqa: E402

if TYPE_CHECKING:
    from ocrchat.models import Job

OCR_TIMEOUT_MS = 180_000
"""How long a one-page scan may take from upload to done (a few seconds when idle; the
rest of the suite may share the server's two workers)."""
HIGHLIGHTED = re.compile(r"(^|\s)highlighted(\s|$)")
LOW = re.compile(r"(^|\s)low(\s|$)")
KNOWN_WORD = "promulgation"
"""A word Tesseract reads right on ``SCAN`` ("date of the promulgation of the Act, ...")."""
JOB_URL = re.compile(r"/jobs/([0-9a-f-]{36})$")
DOWNLOADS = ["PDF", "DOCX", "TXT", "Markdown", "JSON", "CSV", "XLSX", "hOCR", "ALTO", "PAGE-XML"]
DOWNLOAD_FORMATS = ["pdf", "docx", "txt", "md", "json", "csv", "xlsx", "hocr", "alto", "page"]
PX = 2.0
"""How far (CSS pixels) a box may sit from where its bbox puts it on the image."""


def test_chromium_loads_the_live_server(page: Page, shot: Shot) -> None:
    """The infrastructure itself: Debian's Chromium, headless, reaches the live server."""
    response = page.goto("/healthz")
    assert response is not None
    assert response.status == 200
    assert response.json()["status"] == "ok"
    shot(page, "healthz")


def test_sign_in_with_a_token(web: Web, page: Page, shot: Shot) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/signin$"))
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    shot(page, "sign-in-form")

    page.get_by_label("API token").fill("ocr_000000000000_not-a-real-token")
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/signin" in response.url
    ) as refused:
        page.get_by_role("button", name="Sign in").click()
    assert refused.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("That API token is not valid.")
    shot(page, "wrong-token")

    sign_in(page, web.alice)
    expect(page.get_by_role("heading", level=1)).to_have_text("Jobs")
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Account", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/jobs$"))
    shot(page, "signed-in")


def _job_json(page: Page, uuid: str) -> dict[str, Any]:
    """The job with its words, through the page's own session (its cookie)."""
    response = page.request.get(f"/api/v1/ocr/{uuid}/?detail=words")
    assert response.status == 200, response.text()
    job: dict[str, Any] = response.json()
    return job


def _block_with(job: dict[str, Any], word: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """The index of the first block of page 1 holding ``word``, the block, and the word."""
    for index, block in enumerate(job["pages"][0]["blocks"]):
        for found in block.get("words") or []:
            if found["text"].strip(".,;:") == word:
                return index, block, found
    raise AssertionError(f"{word!r} is not among the words of page 1: {job['pages'][0]['text']}")


def _bbox_attr(bbox: list[int]) -> str:
    return ",".join(str(value) for value in bbox)


_PLACES = """([img, element]) => {
    const r = img.getBoundingClientRect(), s = getComputedStyle(img);
    const px = (value) => parseFloat(value) || 0;
    const e = element.getBoundingClientRect();
    return {
        image: {
            left: r.left + px(s.borderLeftWidth) + px(s.paddingLeft),
            top: r.top + px(s.borderTopWidth) + px(s.paddingTop),
            right: r.right - px(s.borderRightWidth) - px(s.paddingRight),
            bottom: r.bottom - px(s.borderBottomWidth) - px(s.paddingBottom),
        },
        element: {left: e.left, top: e.top, right: e.right, bottom: e.bottom},
    };
}"""


def _assert_over(image: Locator, element: Locator, bbox: list[int], size: tuple[int, int]) -> None:
    """``element`` covers the part of the shown ``image`` that ``bbox`` (in the page's
    ``size`` of pixels) names, to within ``PX``."""
    places = image.page.evaluate(_PLACES, [image.element_handle(), element.element_handle()])
    shown = places["image"]
    scale_x = (shown["right"] - shown["left"]) / size[0]
    scale_y = (shown["bottom"] - shown["top"]) / size[1]
    expected = {
        "left": shown["left"] + bbox[0] * scale_x,
        "top": shown["top"] + bbox[1] * scale_y,
        "right": shown["left"] + bbox[2] * scale_x,
        "bottom": shown["top"] + bbox[3] * scale_y,
    }
    got = places["element"]
    off = {edge: round(got[edge] - expected[edge], 1) for edge in expected}
    assert all(abs(value) <= PX for value in off.values()), (
        f"the box of bbox {bbox} is off by {off} CSS px (at {got}, expected {expected})"
    )


def _text_of_docx(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([*(paragraph.text for paragraph in document.paragraphs), *cells])


def _text_of_pdf(path: Path) -> str:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def test_upload_a_scan_see_its_boxes_and_download_it(
    web: Web, page: Page, shot: Shot, artifacts: Artifacts
) -> None:
    """The whole way of a scan: picked, uploaded, read, shown with its boxes over the
    page image where the job's JSON puts them, and downloaded as PDF and DOCX."""
    sign_in(page, web.alice)
    form = page.locator("#upload-form")
    expect(form).to_be_visible()
    # what the file picker does: the chosen file on the input labelled "Document"
    form.get_by_label("Document").set_input_files(SCAN)
    shot(page, "file-chosen")
    form.get_by_role("button", name="Upload").click()

    expect(page).to_have_url(JOB_URL, timeout=60_000)
    match = JOB_URL.search(page.url)
    assert match is not None
    uuid = match.group(1)
    shot(page, "job-page")
    # the job page polls and reloads itself when the job is done
    downloads = page.get_by_role("navigation", name="Downloads")
    expect(downloads).to_be_visible(timeout=OCR_TIMEOUT_MS)
    expect(page.locator("#job-progress")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text(SCAN.name)
    shot(page, "done")

    # the links of every format
    for text, fmt in zip(DOWNLOADS, DOWNLOAD_FORMATS, strict=True):
        link = downloads.get_by_role("link", name=text, exact=True)
        expect(link).to_have_attribute("href", f"/api/v1/ocr/{uuid}/download/?format={fmt}")
        expect(link).to_have_attribute("download", re.compile(".*"))

    job = _job_json(page, uuid)
    first = job["pages"][0]
    size = (first["width"], first["height"])
    figure = page.locator("figure#page-1")
    expect(figure).to_have_class(re.compile(r"(^|\s)page(\s|$)"))
    expect(figure).to_have_attribute("data-page", "1")
    expect(figure).to_have_attribute("data-width", str(size[0]))
    expect(figure).to_have_attribute("data-height", str(size[1]))
    image = figure.get_by_role("img", name="Page 1")
    expect(image).to_have_attribute("src", f"/jobs/{uuid}/pages/1.png")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )

    # every block has its box, tinted when its confidence is low
    boxes = figure.locator(".box:not(.word)")
    expect(boxes).to_have_count(len(first["blocks"]))
    for index, block in enumerate(first["blocks"]):
        box = figure.locator(f'.box:not(.word)[data-block="{index}"]')
        expect(box).to_have_attribute("data-bbox", _bbox_attr(block["bbox"]))
        expect(box).to_have_attribute("data-page", "1")
        if block["confidence"] < 0.6:
            expect(box).to_have_class(LOW)
        else:
            expect(box).not_to_have_class(LOW)

    index, block, word = _block_with(job, KNOWN_WORD)
    block_box = figure.locator(f'.box:not(.word)[data-block="{index}"]')
    block_box.scroll_into_view_if_needed()
    expect(block_box).to_have_attribute("title", re.compile(re.escape(block["text"])))
    _assert_over(image, block_box, block["bbox"], size)
    # the contract has word boxes whenever the job has words; the app draws them when
    # "Show word boxes" is ticked (a long document's words are megabytes)
    toggle = page.get_by_label("Show word boxes")
    if not figure.locator(".word").count() and toggle.count():
        toggle.check()
    word_box = figure.locator(f'.word[data-bbox="{_bbox_attr(word["bbox"])}"]')
    expect(word_box).to_have_count(1)
    _assert_over(image, word_box, word["bbox"], size)

    # the page's text beside it: hovering a line lights its box
    line = page.locator(f'.line[data-page="1"][data-block="{index}"]')
    line.hover()
    expect(block_box).to_have_class(HIGHLIGHTED)
    shot(page, "line-hovered")

    for text, check in (("PDF", _text_of_pdf), ("DOCX", _text_of_docx)):
        with page.expect_download() as started:
            downloads.get_by_role("link", name=text, exact=True).click()
        download = started.value
        saved = artifacts.folder / download.suggested_filename
        download.save_as(saved)
        if text == "PDF":
            assert saved.read_bytes().startswith(b"%PDF")
        assert KNOWN_WORD in check(saved), f"{KNOWN_WORD!r} is not in the {text} download"


def _options(select: Locator) -> list[str]:
    values: list[str] = select.locator("option").evaluate_all("all => all.map(o => o.value)")
    return values


def test_the_upload_form_has_every_field(web: Web, page: Page) -> None:
    """The submit's options, as the API names them, under their labels."""
    sign_in(page, web.alice)
    form = page.locator("#upload-form")
    expect(form.get_by_label("Document")).to_have_attribute("type", "file")
    expect(form.get_by_label("Document")).to_have_attribute("name", "file")
    assert _options(form.get_by_label("Tier")) == ["cpu", "vlm"]
    expect(form.get_by_label("Language")).to_have_value("auto")
    tools = _options(form.get_by_label("Tool"))
    assert tools[0] in ("", "none")
    assert set(tools[1:]) == {"extract-tables", "handwriting-to-text", "translate"}
    for label in ("Translate to", "Pages"):
        expect(form.get_by_label(label, exact=True)).to_be_editable()
    assert {"auto", "force", "skip"} <= set(_options(form.get_by_label("OCR mode")))
    expect(form.get_by_label("Upload progress")).to_have_count(1)
    expect(form.get_by_role("button", name="Upload")).to_be_enabled()


def test_jobs_table_lists_the_job(web: Web, scan_job: Job, page: Page, shot: Shot) -> None:
    sign_in(page, web.alice)
    table = page.locator("#jobs-table")
    row = table.get_by_role("row").filter(has=page.locator(f'a[href="/jobs/{scan_job.uuid}"]'))
    expect(row).to_have_count(1)
    for column in ("Document", "Status", "Pages", "Created"):
        expect(table.get_by_role("columnheader", name=column)).to_have_count(1)
    expect(row.get_by_role("link", name=SCAN.name)).to_be_visible()
    expect(row.get_by_role("button", name=f"Delete {SCAN.name}")).to_be_visible()
    shot(page, "jobs")


def test_delete_a_job_from_the_table(web: Web, page: Page, shot: Shot) -> None:
    """The row's "Delete" asks first, then deletes through the API (cookie and CSRF
    header) and takes the row away."""
    name = "to-delete.pdf"
    submitted = httpx.post(
        f"{web.url}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {web.alice}"},
        files={"file": (name, text_pdf([["Soon gone."]]), "application/pdf")},
        timeout=60,
    )
    assert submitted.status_code in (200, 202), submitted.text
    uuid = submitted.json()["uuid"]
    sign_in(page, web.alice)
    row = (
        page.locator("#jobs-table")
        .get_by_role("row")
        .filter(has=page.locator(f'a[href="/jobs/{uuid}"]'))
    )
    expect(row).to_have_count(1)
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.accept()

    page.once("dialog", confirm)
    with page.expect_response(
        lambda response: response.request.method == "DELETE" and uuid in response.url
    ) as deleted:
        row.get_by_role("button", name=f"Delete {name}").click()
    assert deleted.value.status == 200
    assert asked == ["confirm"]
    expect(row).to_have_count(0)
    shot(page, "deleted")
    gone = httpx.get(
        f"{web.url}/api/v1/ocr/{uuid}/",
        headers={"Authorization": f"Bearer {web.alice}"},
        timeout=30,
    )
    assert gone.status_code == 404


def test_the_jobs_list_follows_a_running_job(web: Web, page: Page, shot: Shot) -> None:
    """A job still being read shows its pages done in the list, and its row turns
    ``done`` by itself (the status cell polls its fragment) without a reload."""
    sign_in(page, web.alice)
    submitted = httpx.post(
        f"{web.url}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {web.alice}"},
        # more pages than a request reads before it answers, each one OCRed
        files={"file": ("running.pdf", numbered_pdf(12), "application/pdf")},
        data={"ocr": "force", "language": "eng"},
        timeout=60,
    )
    assert submitted.status_code == 202, submitted.text
    uuid = submitted.json()["uuid"]
    page.goto("/jobs")
    row = (
        page.locator("#jobs-table")
        .get_by_role("row")
        .filter(has=page.locator(f'a[href="/jobs/{uuid}"]'))
    )
    status = row.get_by_role("cell").nth(1)
    expect(status).to_contain_text(re.compile(r"pending|processing"))
    shot(page, "running")
    expect(status).to_have_text("done", timeout=180_000)
    shot(page, "done")


def test_upload_error_is_shown_readably(web: Web, page: Page, shot: Shot, tmp_path: Path) -> None:
    """A refused upload's message, as the API words it, in the form's alert."""
    document = tmp_path / "letter.pdf"
    document.write_bytes(text_pdf([["A short letter."]]))
    refused = httpx.post(
        f"{web.url}/api/v1/ocr/",
        headers={"Authorization": f"Bearer {web.alice}"},
        files={"file": (document.name, document.read_bytes(), "application/pdf")},
        data={"language": "klingon"},
        timeout=60,
    )
    assert refused.status_code == 400, refused.text
    message = refused.json()["error"]  # the API's errors: {"error": "<sentence>", "code": ...}

    sign_in(page, web.alice)
    form = page.locator("#upload-form")
    form.get_by_label("Document").set_input_files(document)
    form.get_by_label("Language").fill("klingon")
    form.get_by_role("button", name="Upload").click()
    error = page.locator("#upload-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text(message)
    expect(error).not_to_contain_text('{"error"')
    expect(page).to_have_url(re.compile(r"/jobs$"))
    shot(page, "refused")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_citation_leads_to_its_box(
    web: Web, scan_job: Job, open_page: OpenPage, shot: Shot, size: str
) -> None:
    """Asking about the page (the retrieval answerer, no language model) and following
    the answer's citation to the box of the line it cites. A phone has the chat below
    the page, out of sight of it, so there the click has to scroll."""
    page = open_page(phone=size == "phone")
    sign_in(page, web.alice)
    page.goto(f"/jobs/{scan_job.uuid}")
    # a panel labelled "Chat": a <section> (region) or an <aside> (complementary)
    chat = page.get_by_role("region", name="Chat").or_(
        page.get_by_role("complementary", name="Chat")
    )
    question = "When is the promulgation of the Act?"
    chat.get_by_label("Question").fill(question)
    chat.get_by_role("button", name="Ask").click()
    citation = page.locator("#chat-log a.citation").first
    expect(citation).to_be_visible(timeout=30_000)
    citation.scroll_into_view_if_needed()
    shot(page, "answered")

    number = citation.get_attribute("data-page")
    bbox = citation.get_attribute("data-bbox")
    assert number == "1"
    assert bbox
    expect(citation).to_have_attribute("href", f"#page-{number}")
    figure = page.locator(f"#page-{number}")
    if size == "phone":
        out_of_sight = "el => { const r = el.getBoundingClientRect(); "
        out_of_sight += "return r.bottom <= 0 || r.top >= innerHeight; }"
        assert figure.evaluate(out_of_sight), "the page is in sight of the chat: no scroll to see"
    if size == "phone":
        citation.tap()
    else:
        citation.click()
    expect(figure).to_be_in_viewport()
    exact = figure.locator(f'.box[data-bbox="{bbox}"]')
    if exact.count():
        expect(exact.first).to_have_class(HIGHLIGHTED)
    else:  # the citation names a line inside a block: that block is lit
        lit = figure.locator(".box.highlighted")
        expect(lit).to_have_count(1)
        x0, y0, x1, y1 = (int(value) for value in bbox.split(","))
        b0, c0, b1, c1 = (int(v) for v in (lit.get_attribute("data-bbox") or "").split(","))
        inside = b0 <= x0 and c0 <= y0 and x1 <= b1 and y1 <= c1
        assert inside, f"the lit box {lit.get_attribute('data-bbox')} holds no {bbox}"
    shot(page, "citation-followed")

    # the conversation is there again from the history
    page.reload()
    expect(page.locator("#chat-log")).to_contain_text(question)


def test_create_use_and_revoke_a_token(web: Web, page: Page, shot: Shot) -> None:
    sign_in(page, web.alice)
    page.get_by_role("link", name="Account", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Account")
    caps = httpx.get(
        f"{web.url}/api/v1/account/", headers={"Authorization": f"Bearer {web.alice}"}, timeout=30
    ).json()["caps"]
    for label, cap in (("Pages today", caps["day"]), ("Pages this month", caps["month"])):
        if cap is None:  # no cap, nothing to fill a bar to: the count alone
            expect(page.get_by_text(label).first).to_be_visible()
        else:
            expect(page.get_by_label(label)).to_have_attribute("max", str(cap))
    tokens = page.locator("#tokens-table")
    this_session = tokens.get_by_role("row").filter(has_text=key_id_of(web.alice))
    expect(this_session).to_contain_text("(this session)")
    shot(page, "account")

    page.get_by_role("button", name="Create token").click()
    shown = page.get_by_label("New token")
    expect(shown).to_have_value(re.compile(r"^ocr_[0-9a-f]+_"))
    expect(shown).not_to_be_editable()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    token = shown.input_value()
    shot(page, "token-created")

    api = f"{web.url}/api/v1/account/"
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(api, headers=bearer, timeout=30).status_code == 200

    page.reload()  # shown once: gone from the page now
    expect(page.get_by_label("New token")).to_be_hidden()
    assert token not in page.content()
    revoke = page.get_by_role("button", name=f"Revoke token {key_id_of(token)}")
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    expect(revoke).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/account$"))
    shot(page, "token-revoked")
    assert httpx.get(api, headers=bearer, timeout=30).status_code == 401


def test_sign_out_ends_the_session(web: Web, page: Page, shot: Shot) -> None:
    sign_in(page, web.alice)
    cookie = next(c for c in page.context.cookies() if c["name"] == "ocrchat_session")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/signin$"))
    shot(page, "signed-out")
    assert "ocrchat_session" not in {c["name"] for c in page.context.cookies()}

    old = {"ocrchat_session": cookie["value"]}
    with httpx.Client(base_url=web.url, cookies=old, timeout=30) as client:
        jobs = client.get("/jobs")
        assert jobs.status_code == 303
        assert jobs.headers["location"].endswith("/signin")
        assert client.get("/api/v1/account/").status_code == 401


@pytest.mark.parametrize("path", ["/signin", "/jobs"])
def test_a_phone_needs_no_sideways_scrolling(
    web: Web, scan_job: Job, open_page: OpenPage, shot: Shot, path: str
) -> None:
    page = open_page(phone=True)
    if path != "/signin":
        sign_in(page, web.alice)
    page.goto(path)
    shot(page, "phone")
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{path} is {widths[0]} px wide in a {widths[1]} px window"


def _focused(locator: Locator) -> bool:
    return bool(locator.evaluate("element => element === document.activeElement"))


def test_upload_from_the_keyboard(web: Web, page: Page, shot: Shot, tmp_path: Path) -> None:
    """Tab reaches the file input and then "Upload"; Enter there uploads."""
    document = tmp_path / "keyboard.pdf"
    document.write_bytes(text_pdf([["Typed from the keyboard.", "Nothing to read twice."]]))
    sign_in(page, web.alice)
    form = page.locator("#upload-form")
    chooser = form.get_by_label("Document")
    chooser.set_input_files(document)  # a picker's own dialog is not the page's
    upload = form.get_by_role("button", name="Upload")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")

    reached_chooser = False
    for _ in range(60):
        page.keyboard.press("Tab")
        reached_chooser = reached_chooser or _focused(chooser)
        if _focused(upload):
            break
    else:
        pytest.fail("60 presses of Tab never reached the Upload button")
    assert reached_chooser, "Tab passed no file input labelled Document before Upload"
    shot(page, "upload-focused")
    page.keyboard.press("Enter")
    expect(page).to_have_url(JOB_URL, timeout=60_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(document.name)
    shot(page, "uploaded")
