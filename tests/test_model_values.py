"""The model's frozen classes compare and hash as attrs' eq=True classes do
(fwc.attrs_repr.generic_value: their __eq__/__hash__ are not compiled per class)."""

import attrs
import pytest

from fwc import model

CLASSES = [c for c in vars(model).values() if isinstance(c, type) and attrs.has(c) and c.__module__ == model.__name__]
STRINGS = {"kind", "handle_type", "action", "target", "name"}


def instance(cls):
    return cls(**{a.name: ("x" if a.name in STRINGS else 1) for a in attrs.fields(cls)
                  if a.default is attrs.NOTHING})


def test_every_model_class_is_covered():
    assert len(CLASSES) == 22
    assert all("__eq__" in c.__dict__ and "__hash__" in c.__dict__ for c in CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_equality_and_hash_as_attrs_writes_them(cls):
    a = instance(cls)
    same = attrs.evolve(a)
    assert a == same and not a != same and hash(a) == hash(same) and a is not same
    assert a.__eq__(object()) is NotImplemented and a != object()
    for f in attrs.fields(cls):
        other = ("changed",) if f.converter is not None else object()
        b = attrs.evolve(a, **{f.name: other})
        if f.eq:  # a field attrs compares
            assert a != b and not a == b, f.name
        else:  # spans, files, ...: ignored by equality and hash
            assert a == b and hash(a) == hash(b), f.name
    assert len({hash(instance(cls)) for _ in range(3)}) == 1


def test_subclass_is_not_equal_to_its_base():
    p, i = model.Placement(1, 2), model.Initrd(1, 2)
    assert p != i and i != p and p == model.Placement(1, 2) and i == model.Initrd(1, 2)
    assert model.Initrd(1, 2, overrides=[model.Override("srat")]) != i


def test_equal_machines_from_the_same_text_hash_alike():
    from fwc import load

    text = 'machine "m" { node 0 { cpus 0-1 memory 0 size 1G } node 1 { memory 1G size 1G hotpluggable } }'
    a, b = load(text=text, name="a.fwc").machine, load(text=text, name="b.fwc").machine
    assert a is not b and a == b and hash(a) == hash(b) and {a: 1}[b] == 1
    assert a != load(text=text.replace("1G hotpluggable", "2G hotpluggable"), name="a.fwc").machine
