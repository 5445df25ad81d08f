"""Every Python package in the tree is shipped: a package left out of pyproject.toml works in an
editable install and disappears from the wheel users (and CI) install."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_directory_is_in_pyproject() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    dirs = {name: path for name, path in conf["package-dir"].items()}
    assert set(dirs) == listed, "packages and package-dir name different packages"
    shipped = {(ROOT / path).resolve() for path in dirs.values()}
    on_disk = {init.parent.resolve() for top in ("fwc", "plugins")
               for init in (ROOT / top).rglob("__init__.py")}
    missing = sorted(str(d.relative_to(ROOT)) for d in on_disk - shipped)
    assert not missing, f"packages not shipped by pyproject.toml: {missing}"
