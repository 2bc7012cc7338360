"""``vertebro schedule``: generate scheduling instances and solve them (CP-SAT or first-come-first-served).

Exit status: 0 a plan was made; 2 the instance or an option is invalid (each problem named by its JSON
path); 3 no plan exists (infeasible input, explained) or none was found in the time limit.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from vertebro.scheduling.checker import violations
from vertebro.scheduling.explain import weights_explained
from vertebro.scheduling.fcfs import fcfs_plan
from vertebro.scheduling.generate import DEFAULT_START, instance_data
from vertebro.scheduling.instance import Instance, InstanceError, Weights, instance_problems, read_instance
from vertebro.scheduling.plan import Plan
from vertebro.scheduling.problem import problem_of
from vertebro.scheduling.solver import Progress as SolveProgress
from vertebro.scheduling.solver import SolveOptions, solve

schedule_app = typer.Typer(help="Plan procedure sessions: rooms, radiologists, sedation nurses, recovery bays.")

EXIT_INVALID_INPUT = 2
EXIT_NO_PLAN = 3


class OutputFormat(StrEnum):
    """How ``vertebro schedule solve`` prints the plan."""

    TEXT = "text"
    JSON = "json"


class Planner(StrEnum):
    """Which planner makes the plan."""

    CPSAT = "cp-sat"
    FCFS = "fcfs"


def _fail(problems: list[str], what: str, code: int = EXIT_INVALID_INPUT) -> typer.Exit:
    err = Console(stderr=True)
    err.print(f"[bold red]{escape(what)}[/]", highlight=False)
    for problem in problems:
        err.print(f"  {problem}", highlight=False, markup=False)
    return typer.Exit(code=code)


def _parsed_weights(current: Weights, weights: str) -> Weights:
    """Return ``current`` with ``name=value,...`` overrides (exit 2 on a bad override)."""
    changes: dict[str, float] = {}
    known = set(Weights.model_fields)
    for item in weights.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in known:
            raise _fail([f"--weights: unknown term {name!r}; known: {', '.join(sorted(known))}"], "invalid option")
        try:
            changes[name] = float(value)
        except ValueError:
            raise _fail([f"--weights: {name}={value!r} is not a number"], "invalid option") from None
    try:
        return Weights.model_validate(current.model_dump() | changes)
    except ValidationError as exc:
        raise _fail([f"--weights: {p}" for p in instance_problems(exc)], "invalid option") from None


def _with_weights(instance: Instance, weights: str | None) -> Instance:
    """Return the instance with ``name=value,...`` weight overrides (exit 2 on a bad override)."""
    if not weights:
        return instance
    merged = _parsed_weights(instance.weights, weights)
    return Instance.model_validate(instance.model_dump() | {"weights": merged.model_dump()})


@contextmanager
def _progress(console: Console, limit: float, show: bool) -> Iterator[tuple[Progress, TaskID, list[SolveProgress]]]:
    """A Rich progress bar over the time limit, with the best objective, bound and gap as they improve."""
    bar = Progress(
        TextColumn("[bold]solving[/] {task.fields[phase]}"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
        transient=True,
        disable=not show,
    )
    latest: list[SolveProgress] = []
    task = bar.add_task("solve", total=limit, phase="", status="")
    done = threading.Event()
    started = time.perf_counter()

    def tick() -> None:
        while not done.wait(0.25):
            bar.update(task, completed=min(limit, time.perf_counter() - started))

    ticker = threading.Thread(target=tick, daemon=True)
    with bar:
        ticker.start()
        try:
            yield bar, task, latest
        finally:
            done.set()
            ticker.join()


def _status_text(p: SolveProgress) -> str:
    parts = [f"plans {p.solutions}"]
    if p.objective is not None:
        parts.append(f"objective {p.objective:,.2f}")
    if p.bound is not None:
        parts.append(f"bound {p.bound:,.2f}")
    if p.objective and p.bound is not None:
        parts.append(f"gap {max(0.0, (p.objective - p.bound) / p.objective):.1%}")
    return "  ".join(parts)


def _print_plan(console: Console, instance: Instance, plan: Plan) -> None:
    summary = Table(title=f"{plan.instance}: {plan.planner} plan", show_header=False)
    summary.add_row("status", escape(plan.status))
    summary.add_row("objective", f"{plan.objective.total:,.2f} points")
    if plan.bound is not None:
        summary.add_row("bound", f"{plan.bound:,.2f} (no plan can cost less)")
    if plan.gap is not None:
        summary.add_row("gap", f"{plan.gap:.2%}")
    summary.add_row("sessions planned", str(len(plan.sessions)))
    summary.add_row("sessions left out", str(len(plan.unscheduled)))
    summary.add_row("seconds", f"{plan.seconds:.1f}")
    console.print(summary)
    meanings = {term: meaning for term, _, _, meaning in weights_explained(instance.weights.model_dump())}
    terms = Table(title="objective, term by term")
    for column in ("term", "quantity", "weight", "points", "what it counts"):
        terms.add_column(column, justify="right" if column in ("quantity", "weight", "points") else "left")
    for t in plan.objective.terms:
        terms.add_row(
            *map(
                escape,
                (t.name, f"{t.quantity:,} {t.unit}", f"{t.weight:g}", f"{t.points:,.2f}", meanings.get(t.name, "")),
            )
        )
    console.print(terms)
    if plan.sessions:
        schedule = Table(title="schedule")
        for column in ("date", "time", "room", "radiologist", "nurse", "case", "levels", "bay", "monitoring until"):
            schedule.add_column(column)
        for s in plan.sessions:
            moved = " (moved)" if s.moved else ""
            schedule.add_row(
                *map(
                    escape,
                    (
                        f"{s.date:%a %Y-%m-%d}",
                        f"{s.start:%H:%M}-{s.end:%H:%M}",
                        s.room,
                        s.radiologist,
                        s.nurse or "-",
                        f"{s.case}/{s.session}{moved}",
                        " ".join(s.levels),
                        str(s.bay),
                        f"{s.monitoring_end:%H:%M}",
                    ),
                )
            )
        console.print(schedule)
    if plan.unscheduled:
        left = Table(title="left out, and why")
        for column in ("case", "levels", "reason", "detail"):
            left.add_column(column)
        for u in plan.unscheduled:
            left.add_row(*map(escape, (f"{u.case}/{u.session}", " ".join(u.levels), u.reason.value, u.detail)))
        console.print(left)
    for problem in plan.problems:
        console.print(problem, highlight=False, markup=False)


@schedule_app.command("solve")
def solve_command(
    instance_file: Annotated[Path, typer.Argument(help="Instance file (JSON, see docs/scheduling.md).")],
    time_limit: Annotated[float, typer.Option(min=0.1, help="Seconds the solver may use.")] = 30.0,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
    weights: Annotated[
        str | None, typer.Option(help="Override objective weights, e.g. 'acute_missed=50,overtime=1'.")
    ] = None,
    planner: Annotated[Planner, typer.Option(help="cp-sat, or fcfs (first come, first served).")] = Planner.CPSAT,
    workers: Annotated[int, typer.Option(min=1, max=16, help="CP-SAT search threads.")] = 2,
    seed: Annotated[int, typer.Option(help="CP-SAT random seed.")] = 0,
    progress: Annotated[bool, typer.Option(help="Show the search's progress on stderr.")] = True,
) -> None:
    """Plan an instance and print the schedule, its objective by term, the bound, the gap and every left-out reason."""
    try:
        instance = read_instance(instance_file)
    except InstanceError as exc:
        raise _fail(exc.problems, f"{instance_file}: not a valid instance") from None
    instance = _with_weights(instance, weights)
    problem = problem_of(instance)
    if planner is Planner.FCFS:
        plan = fcfs_plan(problem)
    else:
        with _progress(Console(stderr=True), time_limit, progress) as (bar, task, _):

            def report(p: SolveProgress) -> None:
                bar.update(task, phase=p.phase, status=_status_text(p))

            plan = solve(problem, SolveOptions(time_limit=time_limit, workers=workers, seed=seed), report)
    broken = violations(instance, plan)
    if broken:
        raise _fail([str(v) for v in broken], "the plan breaks hard constraints (a bug: please report it)", 1)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False))
    else:
        _print_plan(Console(soft_wrap=False, width=200), instance, plan)
    if plan.status in ("infeasible", "no_solution"):
        raise _fail(plan.problems, "no plan", EXIT_NO_PLAN)


@schedule_app.command("plan")
def plan_command(
    start: Annotated[dt.datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day of the plan.")],
    weeks: Annotated[int, typer.Option(min=1, max=12, help="Weeks to plan.")] = 4,
    time_limit: Annotated[float, typer.Option(min=0.1, max=60, help="Seconds the solver may use.")] = 30.0,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.TEXT,
    weights: Annotated[
        str | None, typer.Option(help="Override objective weights, e.g. 'acute_missed=50,overtime=1'.")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=16, help="CP-SAT search threads.")] = 2,
    seed: Annotated[int, typer.Option(help="CP-SAT random seed.")] = 0,
    save: Annotated[
        bool, typer.Option(help="Store the proposal for the service lead to accept in the staff app.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the search's progress on stderr.")] = True,
    actor: Annotated[str | None, typer.Option(help="Who is planning (audit log); default cli:<user>.")] = None,
) -> None:
    """Plan the cases ready to schedule in the database's calendar; print the plan, optionally save it."""
    from vertebro.cli import _actor
    from vertebro.cli.boundary import unit_of_work
    from vertebro.config import Settings
    from vertebro.errors import VertebroError
    from vertebro.pathway.machine import Role
    from vertebro.scheduling.service import PlanningSetup, database_instance, proposal, save_proposal
    from vertebro.store.workflow import Actor

    settings = Settings()
    who = Actor(_actor(actor), Role.SERVICE_LEAD, "cli")
    setup = PlanningSetup(rooms=settings.rooms, recovery_bays=settings.recovery_bays)
    chosen = _parsed_weights(Weights(), weights) if weights else None
    try:
        with unit_of_work(settings.database_url) as uow:
            source = database_instance(
                uow, start=start.date(), weeks=weeks, setup=setup, policy=settings.policy(), actor=who, weights=chosen
            )
            uow.commit()  # the reads' audit rows, before the solver runs
            with _progress(Console(stderr=True), time_limit, progress) as (bar, task, _):

                def report(p: SolveProgress) -> None:
                    bar.update(task, phase=p.phase, status=_status_text(p))

                made = proposal(source, time_limit=time_limit, workers=workers, seed=seed, progress=report)
            saved = None
            if save:
                saved = save_proposal(uow, made, time_limit=time_limit, actor=who)
                uow.commit()
    except VertebroError as exc:
        raise _fail([str(exc)], "no plan") from None
    plan = made.plan
    if output is OutputFormat.JSON:
        data = plan.model_dump(mode="json") | {"references": source.references()}
        if saved is not None:
            data["saved_as"] = saved.id
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        console = Console(soft_wrap=False, width=200)
        _print_plan(console, source.instance, plan)
        console.print(
            f"first come, first served on the same cases: objective {made.baseline.objective.total:,.2f}, "
            f"{len(made.baseline.sessions)} sessions planned",
            highlight=False,
        )
        if saved is not None:
            console.print(f"saved as schedule plan {saved.id}: accept it in the staff app (/schedule/plans/{saved.id})")
    if plan.status in ("infeasible", "no_solution"):
        raise _fail(plan.problems, "no plan", EXIT_NO_PLAN)


@schedule_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Argument(help="Where to write the instance (JSON).")],
    cases: Annotated[int, typer.Option(min=1, max=5000, help="Eligible cases (referrals).")] = 300,
    weeks: Annotated[int, typer.Option(min=1, max=17, help="Weeks in the horizon.")] = 4,
    rooms: Annotated[int, typer.Option(min=1, max=8, help="Procedure rooms (from 3, one is CT).")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same instance.")] = 1,
    tight: Annotated[bool, typer.Option(help="Fewer recovery bays and sedation nurses.")] = False,
    start: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (default 2027-01-04).")
    ] = None,
) -> None:
    """Write a realistic generated instance: referrals, fracture ages, levels, holds, inpatients, resources."""
    first = DEFAULT_START if start is None else start.date()
    data = instance_data(cases, weeks=weeks, rooms=rooms, seed=seed, tight=tight, start=first)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    typer.echo(f"{out}: {len(data['cases'])} cases, {weeks} weeks from {first}, {rooms} rooms")
