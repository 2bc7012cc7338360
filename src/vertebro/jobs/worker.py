"""``vertebro worker``: run the queue's jobs until stopped (SIGINT/SIGTERM finish the running jobs first)."""

from __future__ import annotations

import asyncio

from vertebro.config import Settings
from vertebro.jobs.tasks import job_app, retry_stalled


def run_worker(settings: Settings, *, concurrency: int = 2, name: str = "worker", wait: bool = True) -> None:
    """Run a worker on the settings' PostgreSQL database; first put the jobs of dead workers back in the queue.

    A worker is dead when it has not sent a heartbeat for ``worker_stalled_after_seconds``; every worker
    also does this once a minute (a periodic job), so a job killed with its worker is retried by the others.
    """
    app = job_app(settings.database_url)

    async def main() -> None:
        async with app.open_async():
            await retry_stalled(app, settings.worker_stalled_after_seconds)
            await app.run_worker_async(
                concurrency=concurrency,
                name=name,
                wait=wait,
                update_heartbeat_interval=settings.worker_heartbeat_seconds,
                stalled_worker_timeout=settings.worker_stalled_after_seconds,
                fetch_job_polling_interval=2.0,
            )

    asyncio.run(main())
