"""Candidacy checks every indication profile applies on its own terms.

The treatable range of levels (levels.scope), levels that still need imaging before they can be treated
(levels.targets, acuity.imaging_current) and a low-energy fracture in a young patient, which calls for a
search for a secondary cause (redflag.young_low_energy). They only ever lower a verdict or add a note.
"""

from __future__ import annotations

from vertebro.clinical.findings import (
    R_IMAGING_CURRENT,
    R_LEVEL_SCOPE,
    R_SECONDARY_CAUSE,
    R_TARGET_LEVELS,
    out_of_scope_text,
    secondary_cause_suspected,
)
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.verdicts import Category, Effect, VerdictBuilder


def referral_text(ctx: Context) -> str | None:
    """Return the out-of-range levels and where they are referred, or None (levels.scope)."""
    outside = out_of_scope_text(ctx.findings, ctx.policy)
    if outside is None:
        return None
    highest, lowest = ctx.policy.treatable_levels
    return f"{outside}: outside {highest}-{lowest}; refer to a spine surgeon or specialist"


def apply_candidacy(builder: VerdictBuilder, ctx: Context) -> None:
    """Apply the shared candidacy checks: level range, imaging still to do, a young low-energy fracture."""
    findings, policy = ctx.findings, ctx.policy
    referral = referral_text(ctx)
    if referral is not None:
        if findings.targets or findings.healed:
            builder.note(R_LEVEL_SCOPE, Effect.CAUTION, referral)
        else:
            builder.cap(Category.NOT_APPROPRIATE, R_LEVEL_SCOPE, Effect.AGAINST, referral)
    for f in findings.stale:
        taken = f.fracture.imaging_date
        builder.note(
            R_IMAGING_CURRENT,
            Effect.CAUTION,
            f"{f.level}: imaging of {taken.isoformat() if taken else 'unknown date'} is older than "
            f"{policy.imaging_max_age_days} days; new MRI needed",
        )
    stale_targets = [f.level for f in findings.stale if f in findings.targets]
    if findings.acuity_pending and stale_targets:
        # every candidate level's imaging is too old: what it showed (acuity, walls, stability) is not current
        builder.need(R_IMAGING_CURRENT, f"current MRI at {', '.join(stale_targets)}")
    for f in findings.awaiting_imaging:
        builder.note(R_TARGET_LEVELS, Effect.CAUTION, f"MRI needed at {f.level} before it can be treated")
    why = secondary_cause_suspected(ctx.case, findings, policy)
    if why is not None:
        builder.cap(Category.UNCERTAIN, R_SECONDARY_CAUSE, Effect.CAUTION, why)
