"""A webhook receiver: instead of polling, let the server tell you when a job ends.

It listens for the server's deliveries (Python's own http.server, nothing to install
beyond ``pip install ocrchat``), checks each one's signature with
``ocrchat.webhooks.verify`` under the account's key (``client.account().webhook_secret``),
answers at once, and fetches the finished job.

    export OCRCHAT_BASE_URL=http://127.0.0.1:8000 OCRCHAT_API_TOKEN=ocr_...
    # a receiver that runs until Ctrl-C; it prints the URL to give as webhook_url
    python examples/webhook_receiver.py [--host 127.0.0.1] [--port 8001] [--url URL]
    # the same, and it submits a document naming itself, then exits once it is delivered
    python examples/webhook_receiver.py --submit [DOCUMENT]

``--submit`` alone sends ``data/invoice.pdf`` beside this script; in your own code it is
``client.submit(path, webhook_url=url)`` (or an account-wide default with
``PATCH /api/v1/account/``). A server delivers only to public addresses unless it is
started with ``--webhook-private-addresses``: for a receiver on 127.0.0.1 or your own
network, start it so (``ocrchat-server serve --webhook-private-addresses``); otherwise put
the receiver behind a public name and pass that as ``--url``.
"""

import argparse
import http.server
import sys
import threading
from pathlib import Path

import ocrchat
from ocrchat.models import WebhookEvent
from ocrchat.webhooks import WebhookVerificationError, verify

HERE = Path(__file__).resolve().parent
PATH = "/hooks/ocr"


class Receiver(http.server.ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], client: ocrchat.Client, secret: str) -> None:
        super().__init__(address, Handler)
        self.client = client
        self.secret = secret
        self.seen: set[str] = set()  # webhook-ids: a retried delivery is dropped
        self.handled: set[str] = set()  # the uuids of the jobs handled
        self.changed = threading.Condition()

    def handle_event(self, event: WebhookEvent) -> None:
        """What your application does with a finished job: here, print it."""
        job = self.client.get(event.data.uuid)
        if event.type == "job.done":
            print(f"verified job.done for {job.uuid}: {job.filename}, {job.page_count} page(s)")
            for line in (job.text or "").strip().splitlines()[:3]:
                print(f"    {line}")
        else:  # job.failed
            print(f"verified {event.type} for {job.uuid}: {job.filename}: {job.error}")
        sys.stdout.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        if self.path != PATH:
            self.answer(404)
            return
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        try:
            # the body exactly as received: verify before parsing it
            event = verify(body, dict(self.headers.items()), self.server.secret)
        except WebhookVerificationError as error:
            print(f"refused a delivery: {error}", flush=True)
            self.answer(400)
            return
        # answer at once: the server waits 10 s at most, then sends the same delivery again
        self.answer(204)
        with self.server.changed:
            repeat = self.headers["webhook-id"] in self.server.seen
            self.server.seen.add(self.headers["webhook-id"])
        if repeat:
            return
        try:
            self.server.handle_event(event)
        finally:
            with self.server.changed:
                self.server.handled.add(event.data.uuid)
                self.server.changed.notify_all()

    def answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the events are printed


def submit_and_wait(client: ocrchat.Client, receiver: Receiver, path: Path, url: str) -> None:
    try:
        job = client.submit(path, language="eng", webhook_url=url)
    except ocrchat.BadRequestError as error:
        if error.code == "invalid_webhook_url":
            sys.exit(
                f"The server will not deliver to {url}: {error.message}\nStart it with "
                "--webhook-private-addresses for a receiver on a private address, or give "
                "--url a public one."
            )
        raise
    print(f"submitted {path.name} as {job.uuid}; waiting for its delivery", flush=True)
    with receiver.changed:
        if not receiver.changed.wait_for(lambda: job.uuid in receiver.handled, 120):
            webhook = client.get(job).webhook
            sys.exit(f"no delivery in 120 s; the job's webhook: {webhook}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Receive and verify ocrchat webhooks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0: any free port")
    parser.add_argument("--url", help="the receiver's URL as the server reaches it")
    parser.add_argument("--submit", nargs="?", type=Path, const=HERE / "data/invoice.pdf")
    args = parser.parse_args()

    with ocrchat.Client() as client:  # $OCRCHAT_BASE_URL and $OCRCHAT_API_TOKEN
        secret = client.account().webhook_secret
        if secret is None:
            sys.exit("This server does not sign webhooks (no webhook_secret on the account).")
        receiver = Receiver((args.host, args.port), client, secret)
        url = args.url or f"http://{args.host}:{receiver.server_port}{PATH}"
        print(f"listening on {url}", flush=True)
        if args.submit is None:
            try:
                receiver.serve_forever()
            except KeyboardInterrupt:
                print("stopped")
            finally:
                receiver.server_close()
            return
        thread = threading.Thread(target=receiver.serve_forever, daemon=True)
        thread.start()
        try:
            submit_and_wait(client, receiver, args.submit, url)
        finally:
            receiver.shutdown()
            receiver.server_close()


if __name__ == "__main__":
    main()
