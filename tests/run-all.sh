#!/usr/bin/env bash
# Install everything the test suite needs, then run it.
#
#   * Debian packages for the oracles (as root, or through sudo): acpica-tools
#     (iasl, acpixtract), qemu-system-x86 and busybox-static (booting the real
#     kernel), build tools for the real mm/memblock.c.  The Debian kernel image
#     and linux-source-6.1 are fetched by the oracle harnesses at test time
#     (apt-get download; nothing is installed into /boot).
#   * a virtual environment .venv with fwc installed from this tree (a normal,
#     non-editable install: the tests exercise what users get) and the test
#     dependencies (mypy among them: it checks fwc/ and plugins/ before pytest).
#
# Extra arguments go to pytest, e.g. `bash tests/run-all.sh -m "not boot"`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=(); else SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    acpica-tools qemu-system-x86 busybox-static gcc make libc6-dev xz-utils python3-venv \
    librsvg2-bin cpio >/dev/null

PY=${PYTHON:-python3}
"$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q '.[test]'
# Type check fwc/ and plugins/ first (configuration: [tool.mypy] in pyproject.toml).
PYTHON=.venv/bin/python bash tests/typecheck.sh
exec .venv/bin/pytest "$@"
