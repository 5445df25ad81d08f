"""The pytest fixture plugin, exercised by the example downstream test suite."""

import os
import subprocess
import sys

from conftest import EXAMPLES


def test_downstream_suite_passes():
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        os.path.join(EXAMPLES, "downstream-tests")], capture_output=True, text=True,
                       cwd=os.path.join(EXAMPLES, "downstream-tests"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 passed" in r.stdout


def test_fixture_fails_the_test_on_errors(tmp_path):
    (tmp_path / "test_x.py").write_text(
        "def test_x(fwc_build):\n    fwc_build('machine \"m\" { node 0 { memory 0 size Q } }')\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                       capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 1
    assert "fwc: the description has errors" in r.stdout and "undefined name 'Q'" in r.stdout
