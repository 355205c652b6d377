"""numerics.shared.certify: Krawczyk, exclusion and eigenvalue signs against systems with known answers
(exact algebra), including statements that must NOT be certified."""

import math
import subprocess
import sys
from fractions import Fraction

import pytest

from theory.errors import InputError

flint = pytest.importorskip("flint")
from flint import arb, arb_mat, fmpq  # noqa: E402

from numerics.shared import certify  # noqa: E402


def circle_line():
    """x^2 + y^2 = 4, x = y: roots +-(sqrt2, sqrt2)."""
    f = lambda x, _: [x[0] ** 2 + x[1] ** 2 - 4, x[0] - x[1]]
    jac = lambda X, _: arb_mat([[2 * X[0], 2 * X[1]], [1, -1]])
    return f, jac


def test_krawczyk_certifies_the_root_box_and_encloses_the_root():
    f, jac = circle_line()
    res = certify.krawczyk(f, jac, [(1.3, 1.5), (1.3, 1.5)])
    assert res.unique and not res.empty
    root = arb(2).sqrt()
    assert all(k.contains(root) for k in res.image_balls)


def test_krawczyk_refuses_a_box_with_two_roots_and_a_box_with_none():
    f, jac = circle_line()
    assert not certify.krawczyk(f, jac, [(-1.5, 1.5), (-1.5, 1.5)]).unique      # both roots
    none = certify.krawczyk(f, jac, [(1.6, 1.8), (1.6, 1.8)])                    # no root
    assert not none.unique and none.empty
    # one-dimensional: x^2 - 2 on [-2, 2] has two roots
    f1 = lambda x, _: [x[0] ** 2 - 2]
    j1 = lambda X, _: arb_mat([[2 * X[0]]])
    assert not certify.krawczyk(f1, j1, [(-2.0, 2.0)]).unique
    assert certify.krawczyk(f1, j1, [(1.2, 1.6)]).unique


def test_krawczyk_parametric_for_every_parameter():
    f = lambda x, c: [x[0] ** 2 - c[0]]
    jac = lambda X, c: arb_mat([[2 * X[0]]])
    ok = certify.krawczyk(f, jac, [(1.3, 1.55)], params=[certify.interval(1.9, 2.1)])
    assert ok.unique
    lo, hi = ok.image[0]
    assert lo <= math.sqrt(1.9) and math.sqrt(2.1) <= hi   # the zero for every c is in the image
    # c in [1, 3]: sqrt(c) leaves the box, so the statement is false and must not be certified
    assert not certify.krawczyk(f, jac, [(1.3, 1.55)], params=[certify.interval(1.0, 3.0)]).unique


def test_krawczyk_inflate_from_a_rough_guess():
    f, jac = circle_line()
    res = certify.krawczyk_inflate(f, jac, [1.40, 1.43], 1e-3)
    assert res.unique
    assert all(lo < math.sqrt(2) < hi for lo, hi in res.box)
    with pytest.raises(InputError):
        certify.krawczyk_inflate(f, jac, [1.4, 1.4], 0.0)


def test_exclusion_proves_no_zero_and_refuses_a_box_with_a_root():
    F = lambda X: [X[0] ** 2 + X[1] ** 2 - 4, X[0] - X[1]]
    free = certify.exclude_zeros(F, [(2.0, 3.0), (-3.0, 3.0)], min_width=1e-3)
    assert free.complete and free.excluded > 0
    with_root = certify.exclude_zeros(F, [(0.0, 3.0), (0.0, 3.0)], min_width=1e-3)
    assert not with_root.complete
    r2 = math.sqrt(2)
    assert any(a <= r2 <= b and c <= r2 <= d for (a, b), (c, d) in with_root.remaining)


def test_exclusion_accepts_covered_boxes():
    F = lambda X: [X[0] ** 2 + X[1] ** 2 - 4, X[0] - X[1]]
    r2 = math.sqrt(2)
    covered = lambda box: all(r2 - 0.01 <= a and b <= r2 + 0.01 for a, b in box)
    res = certify.exclude_zeros(F, [(0.0, 3.0), (0.0, 3.0)], covered=covered, min_width=1e-4)
    assert res.complete and res.covered > 0


def _rotated(eigs):
    """Q diag(eigs) Q^T with the exactly orthogonal rational Q of the 3-4-5 triangle."""
    c, s = Fraction(3, 5), Fraction(4, 5)
    Q = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    A = [[sum(Q[i][k] * eigs[k] * Q[j][k] for k in range(3)) for j in range(3)] for i in range(3)]
    return arb_mat([[arb(fmpq(v.numerator, v.denominator)) for v in row] for row in A])


def test_eigen_signs_on_matrices_with_known_eigenvalues():
    s = certify.eigen_signs(_rotated([Fraction(2), Fraction(-1), Fraction(1, 2)]))
    assert (s.positive, s.negative, s.undetermined) == (2, 1, 0)
    pd = certify.eigen_signs(_rotated([Fraction(3), Fraction(1, 10), Fraction(7)]))
    assert pd.definite == "positive"
    nd = certify.eigen_signs(_rotated([Fraction(-3), Fraction(-1, 10), Fraction(-7)]))
    assert nd.definite == "negative"
    # a genuine (not structural) zero eigenvalue cannot be given a sign
    z = certify.eigen_signs(_rotated([Fraction(2), Fraction(0), Fraction(1)]))
    assert z.undetermined == 1 and z.positive == 2 and z.definite is None


def test_eigen_signs_exact_zero_rows_and_wide_entries():
    s = certify.eigen_signs([[arb(1, 0.5), 0, 0], [0, 0, 0], [0, 0, arb(-1, 0.1)]])
    assert (s.positive, s.negative, s.exact_zero) == (1, 1, 1)
    wide = certify.eigen_signs([[arb(0.1, 0.5), 0], [0, 1]])   # entry range crosses 0
    assert wide.undetermined == 1


def test_eigen_signs_ill_conditioned_needs_precision():
    tiny = fmpq(1, 10**20)
    with certify.working_precision(200):
        A = arb_mat([[1, 1], [1, 1 + arb(tiny)]])   # eigenvalues ~2 and ~5e-21, both positive
        s = certify.eigen_signs(A)
    assert s.definite == "positive" and s.method == "ldl"
    assert flint.ctx.prec == 53


def test_symmetric_enclosure_uses_the_intersection():
    # A[0,1] in [0.5, 1.5], A[1,0] in [0.9, 1.1]: the symmetric matrices in these balls have
    # off-diagonal c in the intersection [0.9, 1.1], eigenvalues 1.2 +- c > 0 (positive definite);
    # with the wider ball (c up to 1.5) 1.2 - c could be negative and nothing would be certified.
    from flint import arb

    s = certify.eigen_signs([[arb("1.2"), arb(1, 0.5)], [arb(1, 0.1), arb("1.2")]])
    assert s.definite == "positive" and s.undetermined == 0
    assert repr(s).startswith("EigenSigns(positive=2, negative=0, exact_zero=0")


def test_bad_input():
    with pytest.raises(InputError):
        certify.interval(2.0, 1.0)
    with pytest.raises(InputError):
        certify.as_box([(0.0, 1.0), "x"])
    with pytest.raises(InputError):
        certify.to_arb(float("nan"))
    with pytest.raises(InputError):
        certify.eigen_signs([[1, 2, 3]])
    with pytest.raises(InputError):
        certify.working_precision(3)
    f, jac = circle_line()
    # eigenvalues 1 +- 3i: no symmetric matrix lies in these (exact) balls, so no certificate
    with pytest.raises(InputError, match="symmetric"):
        certify.eigen_signs([[1, 3], [-3, 1]])
    with pytest.raises(InputError):
        certify.krawczyk(f, jac, [(1.3, 1.5), (1.3, 1.5)], center=[2.0, 2.0])


def test_fallback_without_flint(monkeypatch):
    monkeypatch.setitem(sys.modules, "flint", None)    # "import flint" now raises ImportError
    assert certify.certification_available() is False
    with pytest.raises(certify.CertificationUnavailable):
        certify.require_flint()
    with pytest.raises(certify.CertificationUnavailable):
        certify.interval(0.0, 1.0)


def test_modules_import_without_flint():
    code = ("import sys; sys.modules['flint'] = None\n"
            "import numerics.markov.certified, numerics.lsa.certified\n"
            "from numerics.shared import certify\n"
            "assert not certify.certification_available()\n"
            "try:\n    certify.eigen_signs([[1]])\n"
            "except certify.CertificationUnavailable:\n    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
