"""ocrchat: OCR documents and chat with them, on ocr.chat or your own server.

import ocrchat

with ocrchat.Client() as client:          # $OCRCHAT_API_TOKEN, $OCRCHAT_BASE_URL
    job = client.poll(client.submit("invoice.pdf"))
    print(job.markdown)
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
from ocrchat._sync_client import Client
from ocrchat._version import __version__
from ocrchat.models import (
    Account,
    Block,
    ChatMessage,
    ChatReply,
    Citation,
    Conversation,
    DeletedJob,
    Engine,
    Engines,
    ErrorBody,
    History,
    Job,
    JobStatus,
    Page,
    Progress,
    Role,
    Table,
    Tier,
    Tool,
    Tools,
)

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Account",
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
    "Engine",
    "Engines",
    "ErrorBody",
    "History",
    "Job",
    "JobFailedError",
    "JobNotReadyError",
    "JobStatus",
    "NotFoundError",
    "OcrchatError",
    "Page",
    "PollTimeoutError",
    "Progress",
    "QuotaExceededError",
    "RateLimitError",
    "Role",
    "ServerError",
    "Table",
    "Tier",
    "Tool",
    "Tools",
    "__version__",
]
