"""Every public result type of the library prints readably: dataclasses in ``theory`` and
``numerics`` use :func:`theory.results.readable_repr` (large arrays summarised by shape and
range), directly or through :func:`theory.results.result`."""

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import numerics
import theory
from theory.results import readable_repr

#: Dataclasses that are not results: configuration objects of a few scalar fields, whose
#: dataclass repr is already short (checked below), or with a repr of their own.
OWN_REPR = {"theory.domains.Domain", "numerics.shared.conjecture.box.Parameter",
            "numerics.shared.conjecture.budget.Budget", "numerics.shared.executor.ExecutorSpec"}


def _library_dataclasses():
    found = []
    for package in (theory, numerics):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for name, cls in inspect.getmembers(module, inspect.isclass):
                if (cls.__module__ == module.__name__ and not name.startswith("_")
                        and dataclasses.is_dataclass(cls)):
                    found.append(f"{module.__name__}.{name}")
    return sorted(set(found))


DATACLASSES = _library_dataclasses()


def test_the_library_has_result_types():
    assert len(DATACLASSES) > 50


@pytest.mark.parametrize("qualified", DATACLASSES)
def test_public_dataclass_uses_the_readable_repr(qualified):
    if qualified in OWN_REPR:
        pytest.skip("configuration object with its own repr")
    module, name = qualified.rsplit(".", 1)
    cls = getattr(importlib.import_module(module), name)
    assert cls.__repr__ is readable_repr, f"{qualified} prints with the default dataclass repr"


def test_readable_repr_summarises_a_large_model():
    from numerics.potts.population import default_model

    text = repr(default_model())
    assert "\n" not in text and len(text) < 300
    assert "shape=(20, 20)" in text


def test_configuration_objects_print_in_one_short_line():
    from numerics.shared.conjecture import Budget, parameter_box
    from numerics.shared.executor import parse_executor

    for value in (Budget(), *parameter_box({"p": (0.1, 0.9), "n": (1, 5, "int")}),
                  parse_executor("serial")):
        text = repr(value)
        assert "\n" not in text and len(text) < 200, text
