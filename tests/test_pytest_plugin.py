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


def test_fixture_boot_report_is_typed(tmp_path):
    (tmp_path / "test_x.py").write_text('''
from fwc_plugins.boot.report import BootReport, Zone

def test_x(fwc_build):
    b = fwc_build(path=%r, backends=["boot"])
    assert isinstance(b.boot, BootReport) and b.boot is b.boot
    assert Zone(1, "Movable", 1048576, 524288, 524288) in b.boot.summary.zones
    assert b.boot["summary"] == b.boot_json["summary"] and b.boot.get("policy") == "upstream"
    assert b.zones == b.boot_json["summary"]["zones"] and b.memblock == b.boot_json["memblock"]
    none = fwc_build(path=%r, backends=["model"])
    assert none.boot is None and none.boot_json == {} and none.zones == [] and none.memblock == {}
''' % ((os.path.join(EXAMPLES, "two-node-hotplug.fwc"),) * 2))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                       capture_output=True, text=True, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout
