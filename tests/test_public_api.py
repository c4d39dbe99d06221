"""Each package's ``__all__`` is complete, as httpx checks its own (ruff's RUF022 keeps it sorted)."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = ["cpfr.data.store", "cpfr.targets", "cpfr.data.demo", "cpfr.collab", "cpfr.report"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_lists_every_public_name(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    public = {
        attribute
        for attribute, value in vars(module).items()
        if not attribute.startswith("_") and not inspect.ismodule(value) and attribute != "annotations"
    }
    assert public == set(exported)


def test_every_public_callable_has_a_docstring() -> None:
    for name in PACKAGES:
        module = importlib.import_module(name)
        for attribute in module.__all__:
            value = getattr(module, attribute)
            if callable(value):
                assert inspect.getdoc(value), f"{name}.{attribute} has no docstring"
