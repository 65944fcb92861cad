"""Run nox's default sessions in several processes side by side, then merge their reports.

Usage: ``python tools/run_matrix.py [--jobs N] [--report .nox/report.json] [-- nox args]``.
``make matrix`` calls it. The sessions (``nox --list --json``, those nox runs by
default) are dealt round-robin to ``--jobs`` nox processes (``MATRIX_JOBS``, else
2), each writing its own report; the reports are merged into one, in nox's own
session order, for tools/matrix_report.py. Sessions can run side by side because
each has its own virtualenv, JUnit file and real-disk folder (noxfile.py). The
exit status is 1 if any process failed, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def default_sessions(nox: list[str]) -> list[str]:
    """Return the names of the sessions nox runs by default, in its order."""
    listed = subprocess.run(
        [*nox, "--list", "--json"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    # `nox --list --json` leaves sessions marked default=False out.
    return [session["session"] for session in json.loads(listed.stdout)]


def deal(sessions: list[str], jobs: int) -> list[list[str]]:
    """Return *sessions* dealt round-robin into at most *jobs* non-empty lists."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    hands = [sessions[i::jobs] for i in range(jobs)]
    return [hand for hand in hands if hand]


def merge(reports: list[dict[str, Any]], order: list[str]) -> dict[str, Any]:
    """Return one nox report holding every session of *reports*, in *order*."""
    by_name = {}
    for report in reports:
        for session in report["sessions"]:
            by_name[(session.get("signatures") or [session["name"]])[0]] = session
    missing = [name for name in order if name not in by_name]
    if missing:
        raise ValueError(f"no report holds the sessions {missing}")
    sessions = [by_name[name] for name in order]
    # As nox's own report: 1 when every session succeeded or was skipped.
    passed = all(session["result"] in ("success", "skipped") for session in sessions)
    return {"result": int(passed), "sessions": sessions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--jobs", type=int, default=int(os.environ.get("MATRIX_JOBS", "2")), help="processes"
    )
    parser.add_argument("--report", default=".nox/report.json", help="the merged report")
    parser.add_argument("nox_args", nargs="*", help="more arguments for each nox process")
    args = parser.parse_args(argv)
    nox = [sys.executable, "-m", "nox"]
    order = default_sessions(nox)
    hands = deal(order, args.jobs)
    report = ROOT / args.report
    report.parent.mkdir(parents=True, exist_ok=True)
    parts = [report.with_name(f"{report.stem}.{i}.json") for i in range(len(hands))]
    for stale in (report, *parts):
        stale.unlink(missing_ok=True)
    processes = [
        subprocess.Popen(
            [*nox, "--report", str(part), *args.nox_args, "--sessions", *hand], cwd=ROOT
        )
        for part, hand in zip(parts, hands, strict=True)
    ]
    statuses = [process.wait() for process in processes]
    lost = [str(part) for part in parts if not part.exists()]
    if lost:  # nox stopped before its report (a usage error): its own output says why
        print(f"run_matrix: nox wrote no report {', '.join(lost)}", file=sys.stderr)
        return 2
    merged = merge([json.loads(part.read_text()) for part in parts], order)
    report.write_text(json.dumps(merged, indent=2) + "\n")
    for part in parts:
        part.unlink()
    return 1 if any(statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
