"""What the chat layer refuses. ``http.errors`` maps each to its status."""

from __future__ import annotations

from ocrchat_server.errors import ServiceError


class ChatError(ServiceError):
    pass


class ConversationNotFoundError(ChatError):
    code = "conversation_not_found"

    def __init__(self) -> None:
        super().__init__("No conversation with that id exists for this job.")


class NothingToChatAboutError(ChatError):
    """The job is not done, so there is no text to ask about."""

    code = "job_not_done"


class FailedJobChatError(NothingToChatAboutError):
    """The job failed: there is no text, and there never will be."""

    code = "job_failed"
