import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def pytest_configure(config):
    config.addinivalue_line("markers", "boot: boots a real kernel under QEMU (slow)")
    config.addinivalue_line("markers", "oracle: needs an external oracle tool")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")


@pytest.fixture(scope="session")
def fwc_default():
    from fwc import Fwc

    return Fwc()


def run_fwc(*args, input=None, cwd=None, env=None):
    """Run the fwc CLI as a subprocess; return CompletedProcess (text)."""
    e = dict(os.environ)
    e.pop("FWC_PLUGINS", None)
    e["NO_COLOR"] = "1"
    if env:
        e.update(env)
    return subprocess.run([sys.executable, "-c", "import sys; from fwc.cli import main; sys.exit(main())", *args],
                          capture_output=True, text=True, input=input, cwd=cwd, env=e, timeout=120)


MACHINE = """machine "m" {{
{body}
}}
"""


def machine(body: str) -> str:
    return MACHINE.format(body=body)


@pytest.fixture(scope="session")
def qemu():
    """qemu-system-x86_64 alone (the firmware-only table oracle needs no kernel); skipped
    when missing, failed under CI=true."""
    import shutil

    path = shutil.which("qemu-system-x86_64")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("qemu-system-x86_64 missing under CI")
        pytest.skip("qemu-system-x86_64 missing")
    return path


@pytest.fixture(scope="session")
def qemu_tools():
    """QEMU 7.2, busybox and the Debian kernel (tests/oracles/qemu); skipped when they
    cannot be had, failed under CI=true."""
    from oracles.qemu.fwcboot import tools_or_skip

    return tools_or_skip("6.1")
