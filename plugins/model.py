"""Built-in backend ``model``: the resolved machine as JSON.

Every default resolved, every size-only QEMU range given its address, every
value in bytes: what all other backends see.  Useful as a fixture and for
diffing two descriptions.
"""

from __future__ import annotations

from typing import Any

from fwc.plugin import BackendContext, BackendRegister, hookimpl


@hookimpl
def fwc_register_backends(register: BackendRegister) -> None:
    register("model", generate, description="the resolved machine model as JSON",
             outputs=["machine.json"],
             options={"spans": (False, "include source positions")})


def _strip_spans(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip_spans(v) for k, v in obj.items() if k != "span" and k != "files"}
    if isinstance(obj, list):
        return [_strip_spans(x) for x in obj]
    return obj


def generate(ctx: BackendContext) -> None:
    from fwc.jsontext import dumps  # on use: fwc check does not need it
    from fwc.model import to_dict

    data = to_dict(ctx.machine)
    if not ctx.options["spans"]:
        data = _strip_spans(data)
    ctx.emit("machine.json", dumps(data, 2) + "\n")
