"""DICOM services throughput: worklist queries per second with 10,000 booked procedures, dose reports stored per
second.

    .venv/bin/python bench/dicom.py [--bookings 10000] [--queries 300] [--reports 300]

Setup (not timed) stores N patients, each with a case, two fractures and a booking (8 a day, 07:00-15:00, from
2026-12-01) in a fresh SQLite database, and starts the DICOM services on a free local port. Timed, over the
network with pynetdicom as the modality, one association each: C-FIND queries as a C-arm sends them (one day,
its station AE title, RF), then C-STORE of X-Ray Radiation Dose SRs for distinct bookings. Each query's answers
are audited, so the figure includes the audit writes. Targets: >= 50 worklist queries/s, >= 50 reports/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import AE
from pynetdicom.sop_class import ModalityWorklistInformationFind, XRayRadiationDoseSRStorage  # type: ignore
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.dicom.builders import xray_dose_report
from vertebro.dicom import matching, server
from vertebro.dicom.settings import DicomSettings
from vertebro.store import migrate
from vertebro.store.db import make_engine, make_session_factory
from vertebro.store.models import Booking, Case, Fracture, Patient

FIRST_DAY = dt.date(2026, 12, 1)
PER_DAY = 8


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _store(url: str, bookings: int) -> None:
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        patients, cases, fractures, rows = [], [], [], []
        for n in range(1, bookings + 1):
            day = FIRST_DAY + dt.timedelta(days=(n - 1) // PER_DAY)
            start = dt.datetime.combine(day, dt.time(7 + (n - 1) % PER_DAY)).astimezone()
            patients.append(
                {
                    "id": n,
                    "identifier": f"BD-{n:06d}",
                    "name": f"Given{n} Family{n}",
                    "birth_date": dt.date(1945, 1, 1),
                    "sex": "female",
                    "created_at": now,
                    "version": 1,
                }
            )
            cases.append(
                {"id": n, "patient_id": n, "facts": {}, "procedure_date": day, "created_at": now, "version": 1}
            )
            fractures += [{"case_id": n, "level": level, "cause": "osteoporotic"} for level in ("T12", "L1")]
            rows.append(
                {
                    "id": n,
                    "case_id": n,
                    "room": "Room 1",
                    "starts_at": start,
                    "ends_at": start + dt.timedelta(hours=1),
                    "status": "booked",
                    "booked_by": "bench",
                    "created_at": now,
                }
            )
        for table, values in ((Patient, patients), (Case, cases), (Fracture, fractures), (Booking, rows)):
            connection.execute(insert(table), values)
    engine.dispose()


def main() -> None:
    """Run the benchmark and print queries and reports per second."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--reports", type=int, default=300)
    args = parser.parse_args()
    days = max(1, args.bookings // PER_DAY)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'dicom.db'}"
        migrate.upgrade(url)
        _store(url, args.bookings)
        settings = DicomSettings(port=_port(), peers="CARM1")
        engine = make_engine(url)
        running = server.start(make_session_factory(engine), settings)
        assert running is not None
        try:
            ae = AE(ae_title="CARM1")
            ae.add_requested_context(ModalityWorklistInformationFind)
            ae.add_requested_context(XRayRadiationDoseSRStorage)
            assoc = ae.associate(settings.host, settings.port, ae_title=settings.ae_title)
            assert assoc.is_established
            answers = 0
            start = time.perf_counter()
            for q in range(args.queries):
                query = Dataset()
                query.PatientName = ""
                query.PatientID = ""
                query.AccessionNumber = ""
                step = Dataset()
                step.ScheduledProcedureStepStartDate = (FIRST_DAY + dt.timedelta(days=q % days)).strftime("%Y%m%d")
                step.ScheduledStationAETitle = "ROOM1"
                step.Modality = "RF"
                query.ScheduledProcedureStepSequence = [step]
                for status, identifier in assoc.send_c_find(query, ModalityWorklistInformationFind):
                    answers += identifier is not None and status.Status == 0xFF00
            find_seconds = time.perf_counter() - start
            reports = [
                xray_dose_report(accession=matching.accession_number(n), patient_id=f"BD-{n:06d}")
                for n in range(1, min(args.reports, args.bookings) + 1)
            ]
            stored = 0
            start = time.perf_counter()
            for report in reports:
                stored += assoc.send_c_store(report).Status == 0x0000
            store_seconds = time.perf_counter() - start
            assoc.release()
        finally:
            running.shutdown()
            engine.dispose()
    print(f"bookings: {args.bookings:,} (SQLite); load average {os.getloadavg()[0]:.2f}")
    print(f"worklist: {args.queries / find_seconds:,.1f} queries/s ({answers / args.queries:.1f} items each, audited)")
    print(f"dose reports: {stored / store_seconds:,.1f} stored/s ({stored} of {len(reports)})")


if __name__ == "__main__":
    main()
