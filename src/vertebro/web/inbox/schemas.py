"""The inbox's JSON API: threads, their messages, a reply."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vertebro.messaging.service import BODY_MAX


class ThreadSummary(BaseModel):
    """One thread as the inbox lists it (times in UTC, ISO 8601)."""

    id: int
    patient_id: int
    patient_name: str | None
    subject: str
    status: Literal["open", "done"]
    unread: bool = Field(description="the patient wrote and no one in the team has opened the thread since")
    assignee_user: str | None
    assignee_role: str | None
    last_message_at: dt.datetime
    messages: int


class MessageOut(BaseModel):
    """One message of a thread."""

    id: int
    author_kind: Literal["patient", "staff"]
    author: str
    author_name: str
    body: str
    created_at: dt.datetime


class ThreadOut(BaseModel):
    """A thread with every message, oldest first."""

    id: int
    patient_id: int
    case_id: int | None
    subject: str
    status: Literal["open", "done"]
    assignee_user: str | None
    assignee_role: str | None
    messages: list[MessageOut]


class ReplyIn(BaseModel):
    """The team's reply to a thread (the patient is told a message waits, never what it says)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    body: str = Field(min_length=1, max_length=BODY_MAX, pattern=r"\S")
