#!/usr/bin/env bash
# mypy over fwc/ and plugins/ ([tool.mypy] in pyproject.toml).  plugins/ is installed as the
# package fwc_plugins (pyproject's package-dir mapping), which mypy cannot map; a link in
# build/ gives it that name, so calls between plugins and from fwc into them are checked.
#   bash tests/typecheck.sh            (PYTHON=.venv/bin/python to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/typecheck
ln -sfn ../../plugins build/typecheck/fwc_plugins
exec "${PYTHON:-python3}" -m mypy "$@"
