"""Verify a webhook delivery from an ocrchat server in your receiver.

The server signs each delivery the Standard Webhooks way
(https://www.standardwebhooks.com) with your account's key, ``webhook_secret`` of
``client.account()``. Check the signature before trusting the body:

```python
from ocrchat.webhooks import WebhookVerificationError, verify

try:
    event = verify(request_body_bytes, request_headers, secret)
except WebhookVerificationError:
    return 400
if event.type == "job.done":
    job = client.get(event.data.uuid)
```

A delivery is retried until the receiver answers 2xx, with the same ``webhook-id`` each
time: keep the ids you have handled and drop a repeat.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import cattrs
import standardwebhooks

from ocrchat._exceptions import OcrchatError
from ocrchat._serde import structure
from ocrchat.models import WebhookEvent

__all__ = ["WebhookVerificationError", "verify"]


class WebhookVerificationError(OcrchatError):
    """The delivery's signature does not match its body under the key, a header is
    missing, or its timestamp is more than five minutes off (a replay)."""


def verify(body: bytes | str, headers: Mapping[str, str], secret: str) -> WebhookEvent:
    """The delivery's event, once its signature checks out against ``secret``.

    Args:
        body: The request's body exactly as received (bytes, before any JSON parsing).
        headers: The request's headers, any mapping: ``webhook-id``, ``webhook-timestamp``
            and ``webhook-signature`` are found whatever their case.
        secret: The account's signing key, ``webhook_secret`` of ``client.account()``
            (``whsec_...``).

    Returns:
        The event: its ``type`` (``job.done`` or ``job.failed``) and the job's summary in
            ``data``.

    Raises:
        WebhookVerificationError: The signature does not match, a header is missing, the
            timestamp is more than five minutes off, or the body is not an ocrchat event.
    """
    text = body.decode() if isinstance(body, bytes) else body
    try:
        standardwebhooks.Webhook(secret).verify(text, dict(headers), json_parse=False)
    except standardwebhooks.WebhookVerificationError as exc:
        raise WebhookVerificationError(f"webhook not verified: {exc}") from exc
    except (ValueError, TypeError) as exc:  # a malformed signature header or key
        raise WebhookVerificationError(f"webhook not verified: {exc}") from exc
    try:
        return structure(json.loads(text), WebhookEvent)
    except (ValueError, cattrs.BaseValidationError) as exc:
        raise WebhookVerificationError(f"webhook body is not an ocrchat event: {exc}") from exc
