"""Every docstring example of the library runs as a doctest and prints what it shows.

One test per module of ``theory``, ``numerics`` and ``validation`` that has examples; the option
flags are fixed here (``ELLIPSIS``, ``NORMALIZE_WHITESPACE``) so a docstring cannot loosen them.
"""

import doctest
import importlib
import pkgutil

import pytest

import numerics
import theory
import validation

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
PACKAGES = (theory, numerics, validation)


def _modules():
    for package in PACKAGES:
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            yield info.name


def _doctests(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [test for test in finder.find(module, name) if test.examples]


MODULES = [name for name in _modules() if _doctests(name)]


def test_the_library_has_docstring_examples():
    # theory.markov, theory.bayesnet, numerics.lsa.optimum, numerics.potts.population, ... :
    # a walk that found nothing would make the parametrised test below pass vacuously
    assert {"theory.markov", "theory.bayesnet", "numerics.lsa.optimum",
            "numerics.potts.population", "validation.papers"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _doctests(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
