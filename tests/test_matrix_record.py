"""README.rst's compatibility table is what `make matrix` last recorded."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("matrix_report", ROOT / "tools" / "matrix_report.py")
assert spec and spec.loader
matrix_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(matrix_report)


def sessions() -> list[dict[str, object]]:
    return list(json.loads((ROOT / "tests" / "matrix.json").read_text())["sessions"])


def test_readme_table_is_generated_from_the_record():
    assert matrix_report.main(["--check"]) == 0


def test_the_record_has_no_failed_session_and_counts_every_run():
    recorded = sessions()
    assert recorded, "run make matrix"
    for session in recorded:
        assert session["result"] in ("success", "skipped"), session
        if session["result"] == "success":
            assert session["passed"] > 0 and session["failed"] == session["errors"] == 0, session


def test_the_record_covers_every_supported_pair_both_setuptools_states_and_fs_next():
    recorded = {s["session"] for s in sessions()}
    expected = {
        f"tests(django{django}-py{python}-STORAGES)"
        for django, pythons in {
            "4.2": ("3.10", "3.11", "3.12"),
            "5.2": ("3.10", "3.11", "3.12", "3.13"),
            "6.0": ("3.12", "3.13"),
            "6.1": ("3.12", "3.13"),
        }.items()
        for python in pythons
    }
    expected |= {f"tests(django4.2-py{p}-DEFAULT_FILE_STORAGE)" for p in ("3.10", "3.11", "3.12")}
    expected |= {"setuptools(newest-py3.11)", "setuptools(absent-py3.11)"}
    expected |= {"fs_next(django6.0-py3.12)"}
    assert recorded == expected


def test_table_marks_unsupported_pairs_and_sessions_that_did_not_run():
    table = matrix_report.table(
        [
            {"session": "tests(a)", "result": "success", "django": "6.0", "version": "3.12",
             "setting": "STORAGES"},
            {"session": "tests(b)", "result": "skipped", "django": "6.0", "version": "3.13",
             "setting": "STORAGES"},
        ]
    )  # fmt: skip
    assert table.splitlines()[3].split() == ["6.0", "—", "—", "passed", "not", "run"]
