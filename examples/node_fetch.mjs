// The public service's Node 18+ example (fetch): submit, poll, print the Markdown.
//
//   OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=... node examples/node_fetch.mjs invoice.pdf
//
// The code is the docs' own; the base URL, token, file and tier (the docs use
// vlm; a server without the vlm tier needs OCRCHAT_TIER=cpu) come from the environment.
import { readFile } from "node:fs/promises";

const API = (process.env.OCRCHAT_BASE_URL ?? "https://ocr.chat") + "/api/v1/ocr/";
const H = { Authorization: `Bearer ${process.env.OCRCHAT_API_TOKEN}` };
const path = process.argv[2] ?? "invoice.pdf";

const form = new FormData();
form.append("file", new Blob([await readFile(path)]), "invoice.pdf");
form.append("tier", process.env.OCRCHAT_TIER ?? "vlm");

let job = await (await fetch(API, { method: "POST", headers: H, body: form })).json();
while (job.status === "pending" || job.status === "processing") {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  job = await (await fetch(API + job.uuid + "/", { headers: H })).json();
}
console.log(job.markdown);
