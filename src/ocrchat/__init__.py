"""ocrchat: OCR documents and chat with them, on ocr.chat or your own server."""

from ocrchat._version import __version__
from ocrchat.models import (
    Block,
    ChatMessage,
    ChatReply,
    Citation,
    Conversation,
    ErrorBody,
    History,
    Job,
    JobStatus,
    Page,
    Progress,
    Role,
    Tier,
)

__all__ = [
    "Block",
    "ChatMessage",
    "ChatReply",
    "Citation",
    "Conversation",
    "ErrorBody",
    "History",
    "Job",
    "JobStatus",
    "Page",
    "Progress",
    "Role",
    "Tier",
    "__version__",
]
