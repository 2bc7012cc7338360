"""The National Early Warning Score 2 (NEWS2) of one set of observations, and its clinical-risk band.

Royal College of Physicians, 2017 [rcp-news2-2017], Chart 1 (the scoring system) and Chart 2 (the
thresholds and triggers). Each of seven parameters scores 0-3; the aggregate is their sum (0-20):

=========================  ======  =========  =========  ===========  =========  =========  ======
parameter                  3       2          1          0            1          2          3
=========================  ======  =========  =========  ===========  =========  =========  ======
respiration rate /min      <=8               9-11       12-20        21-24                 >=25
SpO2 scale 1 %             <=91    92-93      94-95      >=96
SpO2 scale 2 %             <=83    84-85      86-87      88-92, or    93-94 O2   95-96 O2   >=97 O2
                                                         >=93 on air
air or oxygen                      oxygen                air
systolic BP mmHg           <=90    91-100     101-110    111-219                           >=220
pulse /min                 <=40               41-50      51-90        91-110     111-130   >=131
consciousness                                            alert                             CVPU
temperature C              <=35.0             35.1-36.0  36.1-38.0    38.1-39.0  >=39.1
=========================  ======  =========  =========  ===========  =========  =========  ======

Clinical risk (Chart 2): aggregate 0-4 *low*; a score of 3 in any single parameter *low-medium*;
aggregate 5-6 *medium* (the key threshold for an urgent response); 7 or more *high* (emergency
response). Scale 2 is only for patients with a documented hypercapnic respiratory failure target
(88-92 %), on a clinician's decision; scale 1 otherwise. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from vertebro.clinical.rules import rule

R_NEWS2 = rule(
    "monitoring.news2",
    "NEWS2: seven parameters (respiration rate, SpO2 on scale 1 or 2, air or oxygen, systolic blood "
    "pressure, pulse, consciousness, temperature) each score 0-3 by the published bands; the score is "
    "their sum.",
    "rcp-news2-2017",
)
R_NEWS2_RISK = rule(
    "monitoring.news2_risk",
    "NEWS2 clinical risk: 0-4 low; a single parameter scoring 3, low-medium (urgent ward-based "
    "response); 5-6 medium (urgent response); 7 or more high (emergency response).",
    "rcp-news2-2017",
)


class Consciousness(StrEnum):
    """ACVPU: alert, or new confusion, responds to voice, to pain, or unresponsive."""

    ALERT = "alert"
    CONFUSION = "confusion"
    VOICE = "voice"
    PAIN = "pain"
    UNRESPONSIVE = "unresponsive"


class Risk(StrEnum):
    """The NEWS2 clinical-risk band of a score (Chart 2)."""

    LOW = "low"
    LOW_MEDIUM = "low-medium"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def escalates(self) -> bool:
        """True for the bands that call for an urgent clinical review (low-medium and above)."""
        return self is not Risk.LOW

    @property
    def response(self) -> str:
        """The response the band calls for, in plain words (Chart 2, paraphrased)."""
        return _RESPONSE[self]


_RESPONSE = {
    Risk.LOW: "continue monitoring; the registered nurse decides whether to observe more often",
    Risk.LOW_MEDIUM: "a single parameter scores 3: urgent review by a clinician on the ward",
    Risk.MEDIUM: "urgent response: a clinician competent in acute illness reviews the patient now",
    Risk.HIGH: "emergency response: a team with critical-care competencies reviews the patient now",
}


@dataclass(frozen=True, slots=True)
class Vitals:
    """One set of observations as NEWS2 needs them (validated by the caller)."""

    respiration_rate: int
    spo2: int
    on_oxygen: bool
    systolic: int
    pulse: int
    consciousness: Consciousness
    temperature_c: float
    spo2_scale_2: bool = False


@dataclass(frozen=True, slots=True)
class News2:
    """A NEWS2 score, the score of each parameter and its clinical-risk band."""

    score: int
    parts: dict[str, int]
    risk: Risk

    @property
    def red(self) -> bool:
        """True when a single parameter scores 3 (the "red score")."""
        return 3 in self.parts.values()


def respiration_points(rate: int) -> int:
    """Respiration rate per minute: <=8 3; 9-11 1; 12-20 0; 21-24 2; >=25 3 (monitoring.news2)."""
    if rate <= 8:
        return 3
    if rate <= 11:
        return 1
    if rate <= 20:
        return 0
    if rate <= 24:
        return 2
    return 3


def spo2_points(spo2: int, *, on_oxygen: bool, scale_2: bool = False) -> int:
    """SpO2 % on scale 1 (<=91 3; 92-93 2; 94-95 1; >=96 0) or on scale 2 (monitoring.news2)."""
    if not scale_2:
        return 3 if spo2 <= 91 else 2 if spo2 <= 93 else 1 if spo2 <= 95 else 0
    if spo2 <= 83:
        return 3
    if spo2 <= 85:
        return 2
    if spo2 <= 87:
        return 1
    if spo2 <= 92 or not on_oxygen:
        return 0
    return 1 if spo2 <= 94 else 2 if spo2 <= 96 else 3


def oxygen_points(on_oxygen: bool) -> int:
    """Supplemental oxygen scores 2, air 0 (monitoring.news2)."""
    return 2 if on_oxygen else 0


def systolic_points(systolic: int) -> int:
    """Systolic BP mmHg: <=90 3; 91-100 2; 101-110 1; 111-219 0; >=220 3 (monitoring.news2)."""
    if systolic <= 90:
        return 3
    if systolic <= 100:
        return 2
    if systolic <= 110:
        return 1
    if systolic <= 219:
        return 0
    return 3


def pulse_points(pulse: int) -> int:
    """Pulse per minute: <=40 3; 41-50 1; 51-90 0; 91-110 1; 111-130 2; >=131 3 (monitoring.news2)."""
    if pulse <= 40:
        return 3
    if pulse <= 50:
        return 1
    if pulse <= 90:
        return 0
    if pulse <= 110:
        return 1
    if pulse <= 130:
        return 2
    return 3


def consciousness_points(level: Consciousness) -> int:
    """Alert scores 0; new confusion, voice, pain or unresponsive (CVPU) 3 (monitoring.news2)."""
    return 0 if level is Consciousness.ALERT else 3


def temperature_points(celsius: float) -> int:
    """Temperature C (to 0.1): <=35.0 3; 35.1-36.0 1; 36.1-38.0 0; 38.1-39.0 1; >=39.1 2 (monitoring.news2)."""
    tenths = round(celsius * 10)
    if tenths <= 350:
        return 3
    if tenths <= 360:
        return 1
    if tenths <= 380:
        return 0
    if tenths <= 390:
        return 1
    return 2


def risk_of(score: int, *, red: bool) -> Risk:
    """Return the clinical-risk band of an aggregate score (monitoring.news2_risk)."""
    if score >= 7:
        return Risk.HIGH
    if score >= 5:
        return Risk.MEDIUM
    if red:
        return Risk.LOW_MEDIUM
    return Risk.LOW


def news2(vitals: Vitals) -> News2:
    """Return the NEWS2 score of one set of observations with its parts and band (monitoring.news2)."""
    parts = {
        "respiration_rate": respiration_points(vitals.respiration_rate),
        "spo2": spo2_points(vitals.spo2, on_oxygen=vitals.on_oxygen, scale_2=vitals.spo2_scale_2),
        "air_or_oxygen": oxygen_points(vitals.on_oxygen),
        "systolic": systolic_points(vitals.systolic),
        "pulse": pulse_points(vitals.pulse),
        "consciousness": consciousness_points(vitals.consciousness),
        "temperature": temperature_points(vitals.temperature_c),
    }
    score = sum(parts.values())
    return News2(score, parts, risk_of(score, red=3 in parts.values()))
