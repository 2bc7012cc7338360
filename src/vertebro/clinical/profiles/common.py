"""Scope rules shared by every indication profile."""

from __future__ import annotations

from vertebro.clinical.findings import Disease
from vertebro.clinical.profiles.context import Context
from vertebro.clinical.rules import rule
from vertebro.clinical.safety_facts import require_recorded
from vertebro.clinical.verdicts import Category, Effect, VerdictBuilder

R_HIGH_ENERGY = rule(
    "scope.high_energy_trauma",
    "High-velocity trauma in normal bone is outside the fragility-fracture pathways; it is assessed "
    "by a spine surgeon.",
    "hirsch-2018",
)
R_MINOR = rule(
    "scope.age_under_18",
    "Patients under 18 are outside the evidence base of every profile.",
    "hirsch-2018",
)
R_NO_FRACTURE_LEFT = rule(
    "scope.all_healed",
    "When imaging shows every fracture healed (no oedema, no uptake), there is no unhealed fracture to treat.",
    "nice-ta279",
    "cms-lcd-pva",
)


def apply_scope(builder: VerdictBuilder, ctx: Context, *, healed_excludes: bool = True) -> None:
    """Apply the shared scope rules: high-energy trauma, age under 18, (optionally) all healed, and the
    safety facts that must be recorded (rule general.safety_facts_recorded).
    """
    require_recorded(builder, ctx.case, ctx.policy)
    if ctx.findings.disease is Disease.HIGH_ENERGY_TRAUMA:
        builder.cap(
            Category.NOT_APPROPRIATE,
            R_HIGH_ENERGY,
            Effect.AGAINST,
            "fracture from high-energy trauma",
        )
    if ctx.case.patient.age < 18:
        builder.cap(
            Category.UNCERTAIN,
            R_MINOR,
            Effect.CAUTION,
            f"patient is {ctx.case.patient.age}",
        )
    if healed_excludes and not ctx.findings.targets and ctx.findings.healed:
        levels = ", ".join(f.level for f in ctx.findings.healed)
        builder.cap(
            Category.NOT_APPROPRIATE,
            R_NO_FRACTURE_LEFT,
            Effect.AGAINST,
            f"healed on imaging: {levels}",
        )
