"""Chat's face to HTTP: ask about a finished job, keep the conversation, list them."""

from __future__ import annotations

import asyncio
import collections
import uuid as uuid_module
from typing import TYPE_CHECKING

from ocrchat.models import ChatMessage, ChatReply, Conversation, JobStatus, Role
from ocrchat_server.chat.answers import Turn
from ocrchat_server.chat.errors import (
    ConversationNotFoundError,
    FailedJobChatError,
    NothingToChatAboutError,
)
from ocrchat_server.chat.retrieval import JobIndex

if TYPE_CHECKING:
    from ocrchat_server.chat.answers import Answerer
    from ocrchat_server.jobs.interfaces import ConversationStore
    from ocrchat_server.jobs.records import Clock, JobRecord
    from ocrchat_server.jobs.service import JobService

_INDEXES_KEPT = 16
MAX_MESSAGE = 4000
"""The longest question, in characters (the API's and the web app's chat both refuse
longer ones)."""


class ChatService:
    def __init__(
        self,
        *,
        conversations: ConversationStore,
        jobs: JobService,
        answerer: Answerer,
        clock: Clock,
    ) -> None:
        self.conversations = conversations
        self.clock = clock
        self.jobs = jobs
        self.answerer = answerer
        # a job's index is built on its first question and kept for the next few
        self._indexes: collections.OrderedDict[str, JobIndex] = collections.OrderedDict()

    def _index(self, record: JobRecord) -> JobIndex:
        index = self._indexes.pop(record.uuid, None)
        if index is None:
            index = JobIndex(self.jobs.view(record).pages or [])
        self._indexes[record.uuid] = index
        while len(self._indexes) > _INDEXES_KEPT:
            self._indexes.popitem(last=False)
        return index

    async def ask(self, record: JobRecord, message: str, conversation: str | None) -> ChatReply:
        if record.status is JobStatus.FAILED:
            raise FailedJobChatError(
                f"The job failed: {record.error or 'no reason given'}",
                uuid=record.uuid,
                job_error=record.error,
            )
        if record.status is not JobStatus.DONE:
            raise NothingToChatAboutError(f"The job is {record.status.value}, not done.")
        # the conversations are read and written off the event loop (a database round trip
        # each in the scale-out mode)
        store = self.conversations
        if conversation is not None and not await asyncio.to_thread(
            store.has_conversation, conversation, record.uuid
        ):
            raise ConversationNotFoundError()
        conversation = conversation or str(uuid_module.uuid4())
        earlier = await asyncio.to_thread(store.messages, conversation)
        history = [Turn(m.role.value, m.content) for m in earlier]
        asked_at = self.clock()
        index = await asyncio.to_thread(self._index, record)
        answer = await asyncio.to_thread(self.answerer.answer, index, message, history)
        question = ChatMessage(role=Role.USER, content=message, created_at=asked_at)
        reply = ChatMessage(
            role=Role.ASSISTANT,
            content=answer.content,
            citations=answer.citations,
            created_at=self.clock(),
        )
        await asyncio.to_thread(store.add_exchange, record.uuid, conversation, question, reply)
        return ChatReply(conversation=conversation, message=reply)

    def history(self, record: JobRecord) -> list[Conversation]:
        return self.conversations.conversations(record.uuid)
