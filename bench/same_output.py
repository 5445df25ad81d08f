#!/usr/bin/env python3
"""Byte-identity of a speed change: every output of this tree against another revision's.

Speed work must not change one byte (issue 15).  This exports ``--base`` (default ``main``)
with ``git archive`` into a temporary directory, runs the same workloads under both trees
(each in a fresh process, the base's ``fwc``/``fwc_plugins`` first on ``sys.path``) and
compares the results byte for byte: every artifact of ``fwc compile`` (all backends), every
diagnostic, ``fwc show``, ``fwc decompile`` of a big SRAT and ``fwc memblock run`` output.
The machines go from the examples up to the sizes of ``bench/speed.py`` (1024 nodes).

    python bench/same_output.py [--base REV] [--quick]

Exit status 0 when every output is identical, 1 otherwise.  It asserts sameness, not
correctness: the oracles in ``tests/`` say what is right.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def workloads(quick: bool):
    """(name, kind, argument) of every case: kind is compile, check, show, decompile or memblock."""
    from speed import boot_machine, distances_machine, hotplug_machine, memblock_script, srat_machine

    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "examples", "**", "*.fwc"), recursive=True)):
        out.append((os.path.relpath(path, ROOT), "compile", open(path).read()))
    sizes = (16, 64) if quick else (16, 64, 256, 1024)
    for n in sizes:
        out.append((f"boot machine {n} nodes", "compile", boot_machine(n)))
        out.append((f"hotplug movable_node {n} nodes", "compile", hotplug_machine(n)))
        out.append((f"show {n} nodes", "show", hotplug_machine(n)))
    out.append(("SLIT 64 nodes, one distance", "compile", distances_machine(64, all_pairs=False)))
    out.append(("SLIT 63 nodes, all distances", "compile", distances_machine(63, all_pairs=True)))
    if not quick:
        out.append(("SLIT 1024 nodes, one distance", "check", distances_machine(1024, all_pairs=False)))
        out.append(("SLIT 255 nodes, all distances", "compile", distances_machine(255, all_pairs=True)))
    srat = srat_machine(32, 2048, 512) if quick else srat_machine(256, 16384, 4096)
    out.append(("big SRAT", "compile-acpi", srat))
    out.append(("big SRAT decompiled", "decompile", srat))
    out.append(("memblock script", "memblock", memblock_script(5000 if quick else 100_000)))
    return out


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_one(kind: str, arg: str) -> dict[str, str]:
    """Outputs (name -> sha256, small texts kept whole for a readable difference)."""
    from fwc import Fwc

    f = Fwc()
    res: dict[str, bytes] = {}
    if kind in ("compile", "compile-acpi", "check"):
        if kind == "check":
            r = f.check(text=arg, name="m.fwc")
        else:
            r = f.compile(text=arg, name="m.fwc", backends=["acpi"] if kind == "compile-acpi" else None)
        for a in r.artifacts:
            res[a.path] = a.data if isinstance(a.data, bytes) else a.data.encode()
        res["diagnostics"] = r.render_diagnostics().encode()
    elif kind == "show":
        import contextlib
        import io

        from fwc.cli import main

        path = os.path.join(tempfile.gettempdir(), "fwc-same-output-show.fwc")
        with open(path, "w") as fh:
            fh.write(arg)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(["show", path])
        res["show"] = f"{status}\n{out.getvalue()}\n{err.getvalue()}".encode()
    elif kind == "decompile":
        r = f.compile(text=arg, name="m.fwc", backends=["acpi"])
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "SRAT")
            with open(p, "wb") as fh:
                fh.write(r.artifact("acpi/SRAT.aml").data)
            r = f.decompile([p])
        res["text"] = (r.text or "").encode()
        res["diagnostics"] = r.render_diagnostics().encode()
    elif kind == "memblock":
        from fwc_plugins.boot.memblock_script import run_script

        res["stdout"] = run_script(arg).encode()
    return {k: digest(v) + ("" if len(v) > 4000 else "\n" + v.decode("latin-1")) for k, v in res.items()}


def child(tree: str, quick: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=tree + os.pathsep + HERE)
    code = ("import json, sys; sys.path.insert(0, %r); import same_output as s; "
            "print(json.dumps({n: s.run_one(k, a) for n, k, a in s.workloads(%r)}))" % (HERE, quick))
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tree)
    if p.returncode:
        raise SystemExit(f"run under {tree} failed:\n{p.stderr}")
    return json.loads(p.stdout)


def export(rev: str, dest: str) -> str:
    tar = subprocess.run(["git", "-C", ROOT, "archive", rev, "fwc", "plugins", "grammars"], capture_output=True,
                         check=True).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=tar, check=True)
    os.symlink("plugins", os.path.join(dest, "fwc_plugins"))
    return dest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main")
    ap.add_argument("--quick", action="store_true", help="small machines only")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fwc-same-") as d:
        here = tempfile.mkdtemp(dir=d)
        os.rmdir(here)
        os.makedirs(here)
        for sub in ("fwc", "plugins", "grammars"):
            os.symlink(os.path.join(ROOT, sub), os.path.join(here, sub))
        os.symlink("plugins", os.path.join(here, "fwc_plugins"))
        rev = subprocess.run(["git", "-C", ROOT, "rev-parse", a.base], capture_output=True, text=True,
                             check=True).stdout.strip()
        # The base's figures are kept (by commit) for the next comparison against it.
        cache = os.path.join(tempfile.gettempdir(), f"fwc-same-output-{rev[:12]}{'-quick' if a.quick else ''}.json")
        if os.path.exists(cache):
            with open(cache) as fh:
                theirs = json.load(fh)
        else:
            theirs = child(export(rev, tempfile.mkdtemp(dir=d)), a.quick)
            with open(cache, "w") as fh:
                json.dump(theirs, fh)
        ours = child(here, a.quick)
    bad = 0
    for name in theirs:
        if ours.get(name) != theirs[name]:
            bad += 1
            print(f"DIFFERENT: {name}")
            for k in sorted(set(ours.get(name, {})) | set(theirs[name])):
                if ours.get(name, {}).get(k) != theirs[name].get(k):
                    print(f"   {k}:\n      base: {theirs[name].get(k, '(missing)')[:600]}\n"
                          f"      this: {ours.get(name, {}).get(k, '(missing)')[:600]}")
        else:
            print(f"same: {name} ({len(theirs[name])} outputs)")
    print(f"{len(theirs) - bad} of {len(theirs)} workloads byte-identical to {a.base}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
