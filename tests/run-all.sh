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
# Another apt/dpkg process (unattended-upgrades, a second run) may hold apt's locks: wait for
# it, at most FWC_APT_WAIT seconds (default 600), then fail with apt's own message.
APT_WAIT=${FWC_APT_WAIT:-600}
apt_get() {
    local deadline=$((SECONDS + APT_WAIT)) out said=
    while :; do
        if out=$("${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=30 "$@" 2>&1); then return 0; fi
        if grep -qiE 'could not get lock|unable to (acquire|lock)|another process using it' <<<"$out" \
                && [ "$SECONDS" -lt "$deadline" ]; then
            [ -n "$said" ] || echo "run-all.sh: another process holds apt's lock; waiting (at most ${APT_WAIT} s)" >&2
            said=1
            sleep 5
            continue
        fi
        printf '%s\n' "$out" >&2
        return 1
    done
}
apt_get update -qq
apt_get install -y -qq --no-install-recommends \
    acpica-tools qemu-system-x86 busybox-static gcc make libc6-dev xz-utils zstd python3-venv \
    librsvg2-bin cpio

PY=${PYTHON:-python3}
"$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q '.[test]'
# Type check fwc/ and plugins/ first (configuration: [tool.mypy] in pyproject.toml).
PYTHON=.venv/bin/python bash tests/typecheck.sh
exec .venv/bin/pytest "$@"
