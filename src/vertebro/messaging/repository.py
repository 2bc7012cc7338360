"""Every query on secure message threads: the patient's own threads, the team's inbox, unread counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from vertebro.store.models import MessageThread, Patient, ThreadMessage, User

INBOX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One thread as the inbox lists it."""

    thread: MessageThread
    patient: Patient
    messages: int


class ThreadRepository:
    """Reads and adds message threads and their messages (the service decides who may)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: MessageThread | ThreadMessage) -> None:
        """Add a thread or a message to the unit of work (flushed by the caller)."""
        self.session.add(row)

    def get(self, thread_id: int, *, for_update: bool = False) -> MessageThread | None:
        """Return a thread with its patient, or None."""
        statement = (
            select(MessageThread).options(joinedload(MessageThread.patient)).where(MessageThread.id == thread_id)
        )
        if for_update:
            statement = statement.with_for_update(of=MessageThread)
        return self.session.scalars(statement).first()

    def messages(self, thread_id: int) -> list[ThreadMessage]:
        """Return a thread's messages, oldest first."""
        statement = select(ThreadMessage).where(ThreadMessage.thread_id == thread_id).order_by(ThreadMessage.id)
        return list(self.session.scalars(statement))

    def of_patient(self, patient_id: int) -> list[MessageThread]:
        """Return one patient's threads, the latest activity first."""
        statement = (
            select(MessageThread)
            .where(MessageThread.patient_id == patient_id)
            .order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc())
        )
        return list(self.session.scalars(statement))

    def inbox(self, *, status: str, username: str | None = None, role: str | None = None) -> list[InboxRow]:
        """Return the team's threads in ``status`` (unread first, then the latest activity), optionally only those
        assigned to ``username`` or to their ``role``."""
        counts = select(ThreadMessage.thread_id, func.count().label("n")).group_by(ThreadMessage.thread_id).subquery()
        statement = (
            select(MessageThread, Patient, counts.c.n)
            .join(Patient, Patient.id == MessageThread.patient_id)
            .join(counts, counts.c.thread_id == MessageThread.id)
            .where(MessageThread.status == status)
            .order_by(MessageThread.staff_unread.desc(), MessageThread.last_message_at.desc(), MessageThread.id.desc())
            .limit(INBOX_LIMIT)
        )
        if username is not None:
            statement = statement.where(
                or_(MessageThread.assignee_user == username, MessageThread.assignee_role == role)
            )
        return [InboxRow(thread, patient, int(n)) for thread, patient, n in self.session.execute(statement)]

    def staff_unread(self) -> int:
        """Return how many open threads have a patient's message no one in the team has opened yet."""
        statement = select(func.count()).where(MessageThread.status == "open", MessageThread.staff_unread.is_(True))
        return int(self.session.execute(statement).scalar_one())

    def patient_unread(self, patient_id: int) -> int:
        """Return how many of a patient's threads have a reply they have not opened yet."""
        statement = select(func.count()).where(
            MessageThread.patient_id == patient_id, MessageThread.patient_unread.is_(True)
        )
        return int(self.session.execute(statement).scalar_one())

    def colleagues(self, roles: tuple[str, ...]) -> list[User]:
        """Return the active staff accounts of ``roles`` (whom a thread can be assigned to), by name."""
        statement = select(User).where(User.active.is_(True), User.role.in_(roles)).order_by(User.display_name)
        return list(self.session.scalars(statement))

    def user(self, username: str) -> User | None:
        """Return a staff account by its username."""
        return self.session.scalars(select(User).where(User.username == username)).first()
