"""`make demo` runs the example project: uploads into memory, exports, serves over HTTP."""

import re
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "example" / "demo.py"


def test_demo_uploads_shows_exports_and_serves(tmp_path):
    result = subprocess.run(
        [sys.executable, "-W", "error", str(DEMO)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "/media/uploads/" in result.stdout
    exported = tmp_path / "demo-export"
    assert f"to {exported}" in result.stdout
    names = sorted(p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file())
    assert "pictures/logo.png" in names
    assert len(names) == 5
    assert (exported / "pictures" / "logo.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-export"]
    logo = (exported / "pictures" / "logo.png").stat().st_size
    assert re.search(r"fetched http://localhost:\d+/media/pictures/logo\.png ", result.stdout)
    assert f"served over HTTP: 200 image/png {logo} bytes\n" in result.stdout
