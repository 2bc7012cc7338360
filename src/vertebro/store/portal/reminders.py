"""Reminders that are due: follow-up questionnaires, the appointment, the preparation steps and the day before.

``queue_due_reminders`` is idempotent (every reminder has a ``dedupe_key``), so `vertebro reminders queue`
and the periodic job may run as often as they like. Every date is read from the clinical core's plan
(``assess(...).preparation``): a hold reminder gives the date of the last dose the plan computed, never a
date worked out here. Reminders go to patients with a portal account (the only contact details stored).
"""

from __future__ import annotations

import datetime as dt

from vertebro.clinical import ClinicPolicy, assess
from vertebro.clinical.medications import HoldAction
from vertebro.store.base import utc_now
from vertebro.store.db import UnitOfWork
from vertebro.store.models import Booking, PatientAccount
from vertebro.store.portal.outbox import (
    APPOINTMENT_NOTICE,
    VISIT_WORDS,
    QueuedReminders,
    StillOpen,
    queue_message,
    queue_team_change_notice,
)
from vertebro.store.workflow.base import facts_of

PREPARATION_WINDOW = dt.timedelta(days=21)  # the longest hold (days before) fits in it with room to spare
HOLD_NOTICE_DAYS = 2  # a hold reminder goes out from 2 days before the last dose until that day
CHANGE_ANSWER_DUE = dt.timedelta(hours=24)  # a patient's request to cancel or move unanswered this long: remind


def _follow_ups(uow: UnitOfWork, today: dt.date, policy: ClinicPolicy) -> tuple[int, int]:
    """Queue the questionnaire reminders now open; return (new, already queued)."""
    clinic = policy.clinic
    new = repeats = 0
    for follow_up, patient_id in uow.portal.follow_ups_due(today):
        account = uow.portal.account_for_patient(patient_id)
        if account is None or account.activated_at is None:
            continue
        words = VISIT_WORDS[follow_up.visit]
        added = queue_message(
            uow,
            account,
            kind="follow_up_due",
            subject=f"Your {words} questionnaire is ready",
            body=(
                f"It is {words} since your procedure. Please tell us how you are: sign in at "
                f"{clinic.portal_url}/portal and answer a few short questions "
                f"(open until {follow_up.due_until:%d %B %Y})."
            ),
            dedupe_key=f"follow_up:{follow_up.id}",
            clinic=clinic,
        )
        new += added
        repeats += not added
    return new, repeats


def _preparation(
    uow: UnitOfWork, booking: Booking, account: PatientAccount, today: dt.date, policy: ClinicPolicy
) -> tuple[int, int]:
    """Queue the hold reminders and the day-before message of one booking; return (new, already queued)."""
    workflow = uow.workflows.get(booking.case_id)
    if workflow is None:
        return 0, 0
    clinic = policy.clinic
    plan = assess(facts_of(workflow.case), policy, as_of=today).preparation
    messages: list[tuple[str, str, str, str]] = []  # kind, subject, body, dedupe key
    for hold in plan.medication_holds:
        day = hold.last_dose_on
        if hold.action is not HoldAction.HOLD or day is None or not (0 <= (day - today).days <= HOLD_NOTICE_DAYS):
            continue
        last = f"{day:%A} {day.day} {day:%B}"
        messages.append(
            (
                "hold_reminder",
                f"Your medicine before your appointment: last dose of {hold.drug} on {last}",
                (
                    f"Your plan says: take your last dose of {hold.drug} on {last}, then stop it until after your "
                    f"procedure. Your plan in the portal says when to start again: {clinic.portal_url}/portal\n"
                    "Do not stop or change any other medicine unless your plan says so."
                ),
                f"hold:{booking.id}:{hold.drug}:{day.isoformat()}",
            )
        )
    start = clinic.local(booking.starts_at)
    if (start.date() - today).days == 1:
        fasting = [item for item in plan.items if item.kind == "fasting" and item.due is not None]
        steps = "".join(f"\n- {item.instruction}" for item in fasting)
        messages.append(
            (
                "day_before",
                "Your appointment is tomorrow",
                (
                    f"Your appointment is tomorrow, {clinic.moment(booking.starts_at)}, at {clinic.site} "
                    f"({booking.room}), {clinic.address}.\n"
                    f"Before you come:{steps or ' follow your preparation plan in the portal.'}\n"
                    "Bring your medicines or a list of them, and make sure someone can take you home and stay "
                    f"with you. Your plan: {clinic.portal_url}/portal"
                ),
                f"day_before:{booking.id}:{start:%Y%m%d%H%M}",
            )
        )
    new = repeats = 0
    for kind, subject, body, key in messages:
        added = queue_message(uow, account, kind=kind, subject=subject, body=body, dedupe_key=key, clinic=clinic)
        new += added
        repeats += not added
    return new, repeats


def _team_change_reminders(uow: UnitOfWork, now: dt.datetime, today: dt.date, policy: ClinicPolicy) -> tuple[int, int]:
    """Queue, once a clinic day, the team's reminder of each patient's request to cancel or move that has waited
    over 24 hours without an answer (hazard H130); return (new, already queued). Nothing without a team address."""
    if not policy.clinic.team_email:
        return 0, 0
    new = repeats = 0
    for request in uow.portal.change_requests_open_since(now - CHANGE_ANSWER_DUE):
        still_open = StillOpen(since=request.created_at, day=today)
        added = queue_team_change_notice(uow, policy.clinic, request_id=request.id, still_open=still_open)
        new += added
        repeats += not added
    return new, repeats


def queue_due_reminders(
    uow: UnitOfWork, *, today: dt.date, policy: ClinicPolicy, now: dt.datetime | None = None
) -> QueuedReminders:
    """Queue every reminder due: questionnaires open, appointments in the next 3 days, preparation steps, and the
    team's daily reminder of patients' requests to cancel or move still unanswered after 24 hours.

    ``now`` (default: the current time) is the moment the appointment windows start from; ``today`` is the
    clinic's day the preparation dates are compared with.
    """
    follow_ups, repeats = _follow_ups(uow, today, policy)
    clinic = policy.clinic
    appointments = preparation = 0
    now = now or utc_now()
    for booking, patient_id in uow.portal.bookings_between(now, now + PREPARATION_WINDOW):
        account = uow.portal.account_for_patient(patient_id)
        if account is None:
            continue
        new, again = _preparation(uow, booking, account, today, policy)
        preparation += new
        repeats += again
        if booking.starts_at >= now + APPOINTMENT_NOTICE:
            continue
        arrive = booking.starts_at - dt.timedelta(minutes=policy.arrival_minutes_early)
        added = queue_message(
            uow,
            account,
            kind="appointment",
            subject=f"Your appointment on {clinic.day(booking.starts_at)}",
            body=(
                f"Your appointment is at {clinic.moment(booking.starts_at)}. Please arrive by {clinic.moment(arrive)} "
                f"({policy.arrival_minutes_early} minutes early) to check in, at {clinic.site} ({booking.room}), "
                f"{clinic.address}. Your preparation plan, with the dates for your medicines, is in the portal: "
                f"{clinic.portal_url}/portal"
            ),
            dedupe_key=f"appointment:{booking.id}:{booking.starts_at.astimezone(dt.UTC):%Y%m%d%H%M}",
            clinic=clinic,
        )
        appointments += added
        repeats += not added
    team, again = _team_change_reminders(uow, now, today, policy)
    return QueuedReminders(follow_ups, appointments, repeats + again, preparation, team)
