// ocrchat web app: the little the pages need beyond htmx. Every call that changes
// something sends the session's CSRF token (from <meta name="csrf-token">); the API token
// is never stored in the browser.
"use strict";

(function () {
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : null;

  if (window.htmx) {
    // show the server's error fragments (a chat question refused, say) like any answer
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "[45]..", swap: true, error: true },
    ];
  }

  function errorMessage(status, body) {
    // the API's 401 speaks of Bearer tokens; here it means the sign-in has ended
    if (status === 401) return "Your session has ended: sign in again (reload the page).";
    if (body && body.error) {
      return typeof body.error === "string" ? body.error : body.error.message || String(body.error);
    }
    if (status === 413) return "The file is too large for this server.";
    if (status === 0) return "The server could not be reached. Check the connection and try again.";
    return "The server answered " + status + ".";
  }

  // ---- upload (jobs page) -------------------------------------------------------------
  const form = document.getElementById("upload-form");
  if (form) {
    const fileInput = document.getElementById("file");
    const drop = document.getElementById("drop-zone");
    const bar = document.getElementById("upload-progress");
    const error = document.getElementById("upload-error");
    const button = document.getElementById("upload-button");
    const title = drop.querySelector(".drop-title");
    const status = document.getElementById("upload-status");

    const showFile = () => {
      const file = fileInput.files && fileInput.files[0];
      title.textContent = file ? "Document: " + file.name : "Document";
    };
    fileInput.addEventListener("change", showFile);
    ["dragenter", "dragover"].forEach((name) =>
      drop.addEventListener(name, (event) => {
        event.preventDefault();
        drop.classList.add("dragging");
      }),
    );
    ["dragleave", "drop"].forEach((name) =>
      drop.addEventListener(name, () => drop.classList.remove("dragging")),
    );
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        fileInput.files = event.dataTransfer.files;
        showFile();
      }
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!fileInput.files || !fileInput.files.length) {
        error.textContent = "Choose a document first.";
        error.hidden = false;
        return;
      }
      const data = new FormData(form);
      for (const [name, value] of Array.from(data.entries())) {
        if (value === "") data.delete(name); // the API's defaults, not empty strings
      }
      const request = new XMLHttpRequest();
      request.open("POST", "/api/v1/ocr/");
      request.setRequestHeader("X-CSRF-Token", csrf);
      request.setRequestHeader("Accept", "application/json");
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      request.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable) bar.value = (100 * progress.loaded) / progress.total;
      });
      // a small file is read before the server answers: say so while it is
      status.textContent = "Uploading…";
      request.upload.addEventListener("load", () => {
        status.textContent = "Uploaded; the server is reading it…";
      });
      request.addEventListener("loadend", () => {
        button.disabled = false;
        let body = null;
        try {
          body = JSON.parse(request.responseText);
        } catch (ignored) {
          body = null;
        }
        if ((request.status === 200 || request.status === 202) && body && body.uuid) {
          bar.value = 100;
          window.location.assign("/jobs/" + body.uuid);
          return;
        }
        bar.hidden = true;
        status.textContent = "";
        error.textContent = errorMessage(request.status, body);
        error.hidden = false;
        error.focus();
      });
      request.send(data);
    });
  }

  // ---- the job page: boxes, lines, citations, words -----------------------------------
  const layout = document.querySelector(".job-layout");
  if (layout) {
    let highlighted = [];
    const clear = () => {
      highlighted.forEach((element) => element.classList.remove("highlighted"));
      highlighted = [];
    };
    const mark = (elements) => {
      clear();
      elements.forEach((element) => element.classList.add("highlighted"));
      highlighted = elements;
    };
    const pair = (page, block) =>
      Array.from(
        document.querySelectorAll(
          '[data-page="' + page + '"][data-block="' + block + '"]:is(.box, .line)',
        ),
      );

    // a mouse over a box or a line lights the pair; not a tap's emulated hover, and not
    // while a citation's scroll moves the page under a resting pointer
    let hoverPausedUntil = 0;
    layout.addEventListener("pointerover", (event) => {
      if (event.pointerType !== "mouse" || Date.now() < hoverPausedUntil) return;
      const target = event.target.closest(".box, .line");
      if (target) mark(pair(target.dataset.page, target.dataset.block));
    });
    layout.addEventListener("click", (event) => {
      const box = event.target.closest(".box");
      if (box) {
        const elements = pair(box.dataset.page, box.dataset.block);
        mark(elements);
        const line = elements.find((element) => element.classList.contains("line"));
        if (line) line.scrollIntoView({ block: "nearest" });
      }
    });
    document.addEventListener("selectionchange", () => {
      const selection = document.getSelection();
      if (!selection || selection.isCollapsed) return;
      const lines = Array.from(document.querySelectorAll(".page-text .line")).filter((line) =>
        selection.containsNode(line, true),
      );
      if (lines.length) {
        mark(lines.flatMap((line) => pair(line.dataset.page, line.dataset.block)));
      }
    });

    const boxOf = (page, bbox) => {
      const boxes = Array.from(document.querySelectorAll('.box[data-page="' + page + '"]'));
      const exact = boxes.find((box) => box.dataset.bbox === bbox);
      if (exact || !bbox) return exact || null;
      // a citation's line inside a larger block: the block that holds its centre
      const [x0, y0, x1, y1] = bbox.split(",").map(Number);
      const cx = (x0 + x1) / 2;
      const cy = (y0 + y1) / 2;
      return (
        boxes.find((box) => {
          const [bx0, by0, bx1, by1] = box.dataset.bbox.split(",").map(Number);
          return bx0 <= cx && cx <= bx1 && by0 <= cy && cy <= by1;
        }) || null
      );
    };
    document.addEventListener("click", (event) => {
      const citation = event.target.closest("a.citation");
      if (!citation) return;
      event.preventDefault();
      hoverPausedUntil = Date.now() + 2000;
      const figure = document.getElementById("page-" + citation.dataset.page);
      const box = boxOf(citation.dataset.page, citation.dataset.bbox || "");
      if (box) {
        const elements = pair(box.dataset.page, box.dataset.block);
        mark(elements);
        box.scrollIntoView({ behavior: "smooth", block: "center" });
        // the line in the page's text column too, scrolling that column alone
        const line = elements.find((element) => element.classList.contains("line"));
        const column = line && line.closest(".page-text");
        if (column) {
          column.scrollTop = line.offsetTop - column.offsetTop - column.clientHeight / 2;
        }
      } else if (figure) {
        clear();
        figure.scrollIntoView({ behavior: "smooth", block: "start" });
      }
      history.replaceState(null, "", "#page-" + citation.dataset.page);
    });

    // words: fetched once, when asked for (a long document's words are megabytes)
    const toggle = document.getElementById("show-words");
    let wordsDrawn = false;
    toggle.addEventListener("change", async () => {
      layout.classList.toggle("with-words", toggle.checked);
      if (!toggle.checked || wordsDrawn) return;
      wordsDrawn = true;
      const response = await fetch("/api/v1/ocr/" + layout.dataset.job + "/?detail=words", {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        wordsDrawn = false;
        return;
      }
      const job = await response.json();
      for (const page of job.pages || []) {
        const figure = document.getElementById("page-" + (page.index + 1));
        if (!figure || !page.width || !page.height) continue;
        const overlay = figure.querySelector(".overlay");
        const fragment = document.createDocumentFragment();
        for (const block of page.blocks) {
          for (const word of block.words || []) {
            const [x0, y0, x1, y1] = word.bbox;
            const span = document.createElement("span");
            span.className = "word" + (word.estimated ? " estimated" : "");
            span.title = word.text + " (" + Math.round(100 * word.confidence) + "%)";
            span.dataset.bbox = word.bbox.join(",");
            span.style.left = (100 * x0) / page.width + "%";
            span.style.top = (100 * y0) / page.height + "%";
            span.style.width = (100 * (x1 - x0)) / page.width + "%";
            span.style.height = (100 * (y1 - y0)) / page.height + "%";
            fragment.appendChild(span);
          }
        }
        overlay.appendChild(fragment);
      }
    });

    // the chat form: a fresh question box after each answer
    document.body.addEventListener("htmx:afterRequest", (event) => {
      const chat = document.getElementById("chat-form");
      if (chat && event.detail.elt === chat && event.detail.successful) {
        chat.querySelector("textarea").value = "";
      }
    });
  }

  // ---- account page: a new token, shown once ------------------------------------------
  const create = document.getElementById("create-token");
  if (create) {
    const box = document.getElementById("new-token-box");
    const output = document.getElementById("new-token");
    const error = document.getElementById("token-error");
    const copy = document.getElementById("copy-token");
    create.addEventListener("click", async () => {
      error.hidden = true;
      create.disabled = true;
      try {
        const response = await fetch("/api/v1/account/tokens/", {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
        });
        const body = await response.json().catch(() => null);
        if (!response.ok || !body || !body.token) {
          error.textContent = errorMessage(response.status, body);
          error.hidden = false;
          return;
        }
        output.value = body.token;
        box.hidden = false;
        output.focus();
        output.select();
        addTokenRow(body.key_id, body.created_at);
      } finally {
        create.disabled = false;
      }
    });
    copy.addEventListener("click", async () => {
      output.select();
      try {
        await navigator.clipboard.writeText(output.value);
        copy.textContent = "Copied";
      } catch (ignored) {
        document.execCommand("copy");
        copy.textContent = "Copied";
      }
    });

    function addTokenRow(keyId, createdAt) {
      const body = document.querySelector("#tokens-table tbody");
      const template = document.querySelector("#tokens-table tbody tr");
      if (!body || !template) {
        window.location.reload();
        return;
      }
      const row = template.cloneNode(true);
      row.querySelector("td:first-child").replaceChildren(
        Object.assign(document.createElement("code"), { textContent: keyId }),
      );
      const when = createdAt ? new Date(createdAt) : null;
      row.querySelector("td:nth-child(2)").textContent = when
        ? when.toISOString().slice(0, 16).replace("T", " ") + " UTC"
        : "";
      const revoke = row.querySelector("form");
      revoke.action = "/account/tokens/" + encodeURIComponent(keyId) + "/revoke";
      revoke.querySelector("button").setAttribute("aria-label", "Revoke token " + keyId);
      body.prepend(row);
    }
  }
})();
