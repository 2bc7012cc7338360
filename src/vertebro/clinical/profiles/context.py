"""What every profile evaluates: the facts, the derived findings and the medication plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vertebro.clinical.contraindications import Contra
from vertebro.clinical.facts import Case
from vertebro.clinical.findings import CaseFindings
from vertebro.clinical.medications import MedicationHold
from vertebro.clinical.policy import ClinicPolicy


@dataclass(frozen=True, slots=True)
class Context:
    """One case as the profiles see it."""

    case: Case
    findings: CaseFindings
    contraindications: dict[Contra, str]
    holds: tuple[MedicationHold, ...]
    policy: ClinicPolicy
    as_of: dt.date

    def max_height_loss(self) -> float | None:
        """Return the largest known percent height loss among the candidate levels."""
        losses = [f.height_loss_percent for f in self.findings.targets if f.height_loss_percent is not None]
        return max(losses) if losses else None

    def targets_without(self, attribute: str) -> list[str]:
        """Return the candidate levels whose finding ``attribute`` is not recorded (unknown, never 'no')."""
        return [f.level for f in self.findings.targets if getattr(f, attribute) is None]

    def any_target(self, flag: str) -> bool | None:
        """Return True if any candidate level has ``flag`` true, None if unknown everywhere it matters."""
        values = [getattr(f.fracture, flag) for f in self.findings.targets]
        if any(v is True for v in values):
            return True
        if values and all(v is False for v in values):
            return False
        return None
