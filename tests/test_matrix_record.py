"""The docs' table and README's versions line are what `make matrix` last recorded."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("matrix_report", ROOT / "tools" / "matrix_report.py")
assert spec and spec.loader
matrix_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(matrix_report)
spec = importlib.util.spec_from_file_location("run_matrix", ROOT / "tools" / "run_matrix.py")
assert spec and spec.loader
run_matrix = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_matrix)


def sessions() -> list[dict[str, object]]:
    return list(json.loads((ROOT / "tests" / "matrix.json").read_text())["sessions"])


def test_readme_table_is_generated_from_the_record():
    assert matrix_report.main(["--check"]) == 0


def test_the_table_is_in_the_docs_and_readme_only_names_the_versions():
    page = (ROOT / "docs" / "compatibility.rst").read_text(encoding="utf-8")
    assert matrix_report.table(sessions()) in page
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    assert matrix_report.START not in readme  # the landing page has no table to keep up
    assert matrix_report.supported_line_problem(readme, sessions()) is None


def test_a_readme_line_that_disagrees_with_the_record_is_reported():
    readme = (ROOT / "README.rst").read_text(encoding="utf-8")
    dropped = readme.replace("Django 4.2, 5.2, 6.0 and 6.1", "Django 4.2, 5.2 and 6.0")
    assert matrix_report.supported_line_problem(dropped, sessions()) == (
        "README.rst says 'Django 4.2, 5.2 and 6.0 on Python 3.10 to 3.13'; "
        "make matrix ran 'Django 4.2, 5.2, 6.0 and 6.1 on Python 3.10 to 3.13'"
    )
    assert "has no line" in matrix_report.supported_line_problem("", sessions())


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


def test_make_matrix_deals_every_default_session_to_one_process_and_merges_in_nox_order():
    order = run_matrix.default_sessions([sys.executable, "-m", "nox"])
    # What nox runs by default is what the record holds: not the 20,000-sequence handles run.
    assert set(order) == {s["session"] for s in sessions()}
    hands = run_matrix.deal(order, 2)
    assert len(hands) == 2 and sorted(hands[0] + hands[1]) == sorted(order)
    assert run_matrix.deal(order[:1], 4) == [order[:1]]  # no process without a session
    with pytest.raises(ValueError, match="jobs must be at least 1, not 0"):
        run_matrix.deal(order, 0)

    def report(hand, result):
        return {"result": 1, "sessions": [{"name": "tests", "signatures": [n], "result": result}
                                          for n in hand]}  # fmt: skip

    merged = run_matrix.merge([report(hands[1], "success"), report(hands[0], "success")], order)
    assert [s["signatures"][0] for s in merged["sessions"]] == order
    assert merged["result"] == 1
    failed = run_matrix.merge([report(hands[0], "failed"), report(hands[1], "skipped")], order)
    assert failed["result"] == 0  # nox's own report says 0 when a session failed
    with pytest.raises(ValueError, match=re.escape(f"no report holds the sessions {hands[1]}")):
        run_matrix.merge([report(hands[0], "success")], order)
