"""Chat's face to HTTP: ask about a finished job, keep the conversation, list them."""

from __future__ import annotations

import asyncio
import collections
import uuid as uuid_module
from typing import TYPE_CHECKING

from ocrchat.models import ChatMessage, ChatReply, Conversation, JobStatus, Role
from ocrchat_server.chat.answers import Turn
from ocrchat_server.chat.retrieval import JobIndex
from ocrchat_server.errors import ApiError

if TYPE_CHECKING:
    from ocrchat_server.chat.answers import Answerer
    from ocrchat_server.jobs.service import JobService
    from ocrchat_server.jobs.store import JobRecord, JobStore

_INDEXES_KEPT = 16


class ChatService:
    def __init__(self, *, store: JobStore, jobs: JobService, answerer: Answerer) -> None:
        self.store = store
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
        if record.status is not JobStatus.DONE:
            raise ApiError(409, "job_not_done", f"The job is {record.status.value}, not done.")
        if conversation is not None and not self.store.has_conversation(conversation, record.uuid):
            raise ApiError(
                404, "conversation_not_found", "No conversation with that id exists for this job."
            )
        conversation = conversation or str(uuid_module.uuid4())
        history = [Turn(m.role.value, m.content) for m in self.store.messages(conversation)]
        asked_at = self.store.clock()
        index = await asyncio.to_thread(self._index, record)
        answer = await asyncio.to_thread(self.answerer.answer, index, message, history)
        question = ChatMessage(role=Role.USER, content=message, created_at=asked_at)
        reply = ChatMessage(
            role=Role.ASSISTANT,
            content=answer.content,
            citations=answer.citations,
            created_at=self.store.clock(),
        )
        self.store.add_exchange(record.uuid, conversation, question, reply)
        return ChatReply(conversation=conversation, message=reply)

    def history(self, record: JobRecord) -> list[Conversation]:
        return self.store.conversations(record.uuid)
