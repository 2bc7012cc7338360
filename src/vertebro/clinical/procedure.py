"""The procedure itself: expected room time and the phases of the PMMA cement."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

from vertebro.clinical.policy import ClinicPolicy
from vertebro.clinical.rules import Rule, rule

R_ROOM_TIME = rule(
    "procedure.room_time",
    "Room time is the set-up time plus about one hour per treated level (scheduling policy; mean "
    "procedure times in KAVIAR were 31.8 min for vertebroplasty and 40.0 min for kyphoplasty).",
    "local-policy",
    "dohm-2014",
)
R_CEMENT_PHASES = rule(
    "cement.phases",
    "PMMA cement passes through mixing, waiting (dough), working (injectable) and setting phases; "
    "working starts when the dough no longer sticks to gloves.",
    "palacos-ifu",
)
R_CEMENT_TEMPERATURE = rule(
    "cement.temperature",
    "Warmer rooms shorten every phase: a phase lasting t at the reference temperature lasts "
    "t * exp(-k (T - T_ref)); k = 0.042 per degree C from SmartSet HV setting times (534 s at 20 C, "
    "381 s at 28 C).",
    "smartset-2015",
)
R_CEMENT_REFERENCE = rule(
    "cement.reference_product",
    "Reference vertebroplasty PMMA at 22 C: mixing 0.5 min, waiting until 5.1 min, working 3.4 min "
    "(Lai 2012), setting about 11 min; a clinic replaces this with its product's IFU table.",
    "lai-2012",
    "vp-cement-hardening-2011",
    "cement-ifu-tables",
)

SMARTSET_K_PER_C = math.log(534.0 / 381.0) / 8.0
MIN_ROOM_TEMPERATURE_C = 15.0
MAX_ROOM_TEMPERATURE_C = 30.0


@dataclass(frozen=True, slots=True)
class CementProduct:
    """A cement's phase durations (minutes) at its reference temperature, and its source."""

    id: str
    name: str
    reference_temperature_c: float
    mixing_min: float
    waiting_min: float
    working_min: float
    setting_min: float
    k_per_c: float
    rule: Rule


PRODUCTS: dict[str, CementProduct] = {
    "reference-vp-pmma": CementProduct(
        id="reference-vp-pmma",
        name="Reference vertebroplasty PMMA (literature composite, not a product IFU)",
        reference_temperature_c=22.0,
        mixing_min=0.5,
        waiting_min=4.6,
        working_min=3.4,
        setting_min=11.0,
        k_per_c=SMARTSET_K_PER_C,
        rule=R_CEMENT_REFERENCE,
    ),
}
DEFAULT_PRODUCT = "reference-vp-pmma"


@dataclass(frozen=True, slots=True)
class CementPhase:
    """One cement phase, in minutes from the start of mixing."""

    name: str
    start_min: float
    end_min: float


@dataclass(frozen=True, slots=True)
class CementTimeline:
    """The phases of one cement at one room temperature."""

    product: CementProduct
    temperature_c: float
    phases: tuple[CementPhase, ...]
    verify: bool

    @property
    def set_at_min(self) -> float:
        """Minutes from the start of mixing until the cement has set."""
        return self.phases[-1].end_min


@dataclass(frozen=True, slots=True)
class ProcedurePlan:
    """Room time and cement timeline for the planned session(s)."""

    levels: int
    sessions: int
    room_minutes_per_session: tuple[int, ...]
    cement: CementTimeline
    rules: tuple[Rule, ...]


def room_minutes(levels: int, policy: ClinicPolicy) -> int:
    """Return the expected room time for one session treating ``levels`` levels (procedure.room_time)."""
    if levels < 0:
        raise ValueError(f"levels must be 0 or more, got {levels}")
    return policy.setup_minutes + policy.minutes_per_level * levels if levels else 0


@lru_cache(maxsize=256)
def cement_timeline(product: CementProduct, temperature_c: float) -> CementTimeline:
    """Return the cement's phases at a room temperature (cement.phases, cement.temperature)."""
    if isinstance(temperature_c, bool) or not (MIN_ROOM_TEMPERATURE_C <= temperature_c <= MAX_ROOM_TEMPERATURE_C):
        raise ValueError(
            f"room_temperature_c: {temperature_c!r} is outside {MIN_ROOM_TEMPERATURE_C:g}-"
            f"{MAX_ROOM_TEMPERATURE_C:g} C, the range the cement model covers"
        )
    factor = math.exp(-product.k_per_c * (temperature_c - product.reference_temperature_c))
    phases: list[CementPhase] = []
    start = 0.0
    for name, minutes in (
        ("mixing", product.mixing_min),
        ("waiting", product.waiting_min),
        ("working", product.working_min),
        ("setting", product.setting_min),
    ):
        end = start + minutes * factor
        phases.append(CementPhase(name, round(start, 1), round(end, 1)))
        start = end
    return CementTimeline(product, temperature_c, tuple(phases), product.rule.unverified)


@lru_cache(maxsize=4096)
def procedure_plan(
    sessions: tuple[tuple[str, ...], ...],
    product_id: str | None,
    temperature_c: float | None,
    policy: ClinicPolicy,
) -> ProcedurePlan:
    """Return room time per session and the cement timeline for the room temperature."""
    product = PRODUCTS.get(product_id or DEFAULT_PRODUCT)
    if product is None:
        raise ValueError(f"cement_product: unknown product {product_id!r}; known: {', '.join(sorted(PRODUCTS))}")
    temperature = policy.room_temperature_c if temperature_c is None else temperature_c
    return ProcedurePlan(
        levels=sum(len(s) for s in sessions),
        sessions=len(sessions),
        room_minutes_per_session=tuple(room_minutes(len(s), policy) for s in sessions),
        cement=cement_timeline(product, temperature),
        rules=(R_ROOM_TIME, R_CEMENT_PHASES, R_CEMENT_TEMPERATURE, product.rule),
    )


R_CEMENT_WARNING = rule(
    "cement.working_time_warning",
    "The cement timer warns before the working (injectable) phase ends, by default 1 minute before "
    "(clinic policy); injecting into the setting phase is not advised by the cement's instructions.",
    "local-policy",
    "palacos-ifu",
)

NOT_STARTED = "not started"
SET = "set"


@dataclass(frozen=True, slots=True)
class TimerReading:
    """Where one level's cement timer stands: its clock (pauses left out), the real time since mixing, the phase."""

    elapsed_min: float
    since_mixing_min: float
    phase: str
    phase_left_min: float | None
    warning: bool
    paused: bool


def timer_reading(
    timeline: CementTimeline,
    *,
    mixed_at: dt.datetime | None,
    paused_at: dt.datetime | None,
    paused_seconds: float,
    now: dt.datetime,
    warn_minutes: float,
) -> TimerReading:
    """Return the phase of a cement timer started at ``mixed_at`` (cement.phases, cement.working_time_warning).

    The timer's clock is the time since mixing less the time spent paused (the pauses so far, ``paused_seconds``,
    and one in progress since ``paused_at``); the real time since mixing is returned beside it, because the
    cement keeps setting while the timer is paused. The warning is on in the working phase when at most
    ``warn_minutes`` of it remain. Times are aware; a timer not started reads "not started".
    """
    if mixed_at is None:
        return TimerReading(0.0, 0.0, NOT_STARTED, None, False, False)
    now = now.astimezone(dt.UTC)  # real time: aware times of one zone would subtract as wall-clock times
    since = max((now - mixed_at.astimezone(dt.UTC)).total_seconds(), 0.0)
    held = max(paused_seconds, 0.0)
    if paused_at is not None:
        held += max((now - paused_at.astimezone(dt.UTC)).total_seconds(), 0.0)
    elapsed = max(since - held, 0.0) / 60.0
    for phase in timeline.phases:
        if phase.start_min <= elapsed < phase.end_min:
            left = phase.end_min - elapsed
            warning = phase.name == "working" and left <= warn_minutes
            return TimerReading(elapsed, since / 60.0, phase.name, left, warning, paused_at is not None)
    return TimerReading(elapsed, since / 60.0, SET, None, False, paused_at is not None)
