"""What the browser tests share: a real ``vertebro serve`` process on a database, and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from vertebro.pathway.machine import Role
from vertebro.store import migrate, staff_service
from vertebro.store.db import UnitOfWork, make_engine, make_session_factory

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def staffed_database(
    folder: Path,
    users: Mapping[Role, str],
    password: str,
    fill: Callable[[UnitOfWork], None],
    url: str | None = None,
) -> tuple[str, dict[Role, str]]:
    """Migrate a fresh SQLite database in ``folder`` (or the empty database at ``url``), add one user per role
    and what ``fill`` adds.

    Returns the database URL and each role's TOTP secret (for the browser's second sign-in step).
    """
    url = url or f"sqlite:///{folder / 'e2e.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    secrets: dict[Role, str] = {}
    with UnitOfWork(make_session_factory(engine)) as uow:
        for role, username in users.items():
            created = staff_service.create_user(
                uow, username=username, display_name=username, role=role, password=password, actor="e2e"
            )
            secrets[role] = created.totp_secret
        fill(uow)
        uow.commit()
    engine.dispose()
    return url, secrets


@contextmanager
def serve(database_url: str, **settings: str) -> Iterator[str]:
    """Run ``vertebro serve`` on the database until the block ends; yield its base URL.

    ``settings`` are extra environment variables for the server, e.g. ``VERTEBRO_DEMO_MODE="true"``.
    """
    port = free_port()
    env = {**os.environ, "VERTEBRO_DATABASE_URL": database_url, **settings}
    # The server's output goes to a file: an unread pipe fills up and then blocks the server's logging.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "vertebro", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90  # a loaded 2-core machine needs over 30 s to import the app
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            process.kill()
            log.seek(0)
            raise RuntimeError(f"the server did not start: {log.read().decode(errors='replace')[-2000:]}")
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # still finishing requests or background work: stop it
                process.kill()
                process.wait(timeout=10)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, without network chatter (fails the test when it is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-system-packages.sh (make test does)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            yield b
        finally:
            b.close()


_LAST_CODE_STEP: dict[str, int] = {}  # per username: a TOTP code is accepted once, so the next sign-in waits


def signed_in_page(
    browser: Browser,
    base: str,
    username: str,
    password: str,
    secret: str,
    problems: list[str] | None = None,
    viewport: Mapping[str, int] | None = None,
) -> Page:
    """Return a new page signed in as a member of staff (password, then a fresh TOTP code), as a person does.

    With ``problems``, every console error or warning and every page error is noted there (the tests assert
    none: CSP violations among them).
    """
    page = browser.new_context(viewport=dict(viewport or {"width": 1366, "height": 900})).new_page()
    if problems is not None:
        notes = problems

        def console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                notes.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: notes.append(f"{page.url}: {error}"))
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()
    step = int(time.time() // 30)
    while step <= _LAST_CODE_STEP.get(username, -1):  # the last code was used: wait for the next one
        time.sleep(1)
        step = int(time.time() // 30)
    _LAST_CODE_STEP[username] = step
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(step * 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=15000)
    return page
