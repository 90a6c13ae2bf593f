"""ocrchat: OCR documents and chat with them, on ocr.chat or your own server.

```python
import ocrchat

with ocrchat.Client() as client:  # $OCRCHAT_API_TOKEN, $OCRCHAT_BASE_URL
    job = client.ocr("invoice.pdf")
    print(job.markdown)
```

``Client`` and ``AsyncClient`` call the API; the models they return (``Job``, ``Page``,
``Block``, ...) are frozen attrs classes from ``ocrchat.models``; every error raised is an
``OcrchatError``; ``ocrchat.webhooks.verify`` checks a webhook delivery.
"""

from ocrchat._async_client import AsyncClient
from ocrchat._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    JobFailedError,
    JobNotReadyError,
    NotFoundError,
    OcrchatError,
    PollTimeoutError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from ocrchat._response import APIResponse
from ocrchat._sync_client import Client
from ocrchat._version import __version__
from ocrchat.models import (
    DOWNLOAD_FORMATS,
    Account,
    AccountCaps,
    AccountCosts,
    AccountResets,
    AccountUsage,
    Block,
    ChatMessage,
    ChatReply,
    Citation,
    Conversation,
    DeletedJob,
    DownloadFormat,
    Engine,
    Engines,
    ErrorBody,
    History,
    Job,
    JobList,
    JobStatus,
    JobSummary,
    Page,
    Progress,
    Region,
    Role,
    Table,
    Tier,
    TierName,
    Tool,
    ToolName,
    Tools,
    WebhookDelivery,
    Word,
)

__all__ = [
    "DOWNLOAD_FORMATS",
    "APIConnectionError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
    "AccountCaps",
    "AccountCosts",
    "AccountResets",
    "AccountUsage",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Block",
    "ChatMessage",
    "ChatReply",
    "Citation",
    "Client",
    "ConfigurationError",
    "Conversation",
    "DeletedJob",
    "DownloadFormat",
    "Engine",
    "Engines",
    "ErrorBody",
    "History",
    "Job",
    "JobFailedError",
    "JobList",
    "JobNotReadyError",
    "JobStatus",
    "JobSummary",
    "NotFoundError",
    "OcrchatError",
    "Page",
    "PollTimeoutError",
    "Progress",
    "QuotaExceededError",
    "RateLimitError",
    "Region",
    "Role",
    "ServerError",
    "Table",
    "Tier",
    "TierName",
    "Tool",
    "ToolName",
    "Tools",
    "WebhookDelivery",
    "Word",
    "__version__",
]
