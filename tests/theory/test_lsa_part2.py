"""theory.lsa Part 2 (lsa.md Part 2 §A, E, F): sympy objects."""

import sympy as sp

from theory import lsa


def test_pareto_front_equals_r1_exactly():
    xs = sp.Matrix([[1, 0], [1, 1], [0, 1], [1, 1]])
    ys = sp.Matrix([1, 0, 1, 1])
    M, c, w, L = lsa.least_squares_parts(xs, ys)
    mu = sp.Matrix([sp.Rational(1, 3), 2])
    assert sp.simplify(lsa.objective_R1(w + mu, xs, ys) - lsa.pareto_front(M, c, L, mu)) == sp.zeros(3, 1)


def test_dirichlet_moment_beta_case():
    # k = 2, alpha = 1: rows U(0, 1) -> E[K00^a K10^b] = 1/((a+1)(b+1)) (lsa.md §1)
    assert lsa.dirichlet_moment([[2, 0], [1, 0]], 1) == sp.Rational(1, 6)
    a = sp.Symbol("alpha", positive=True)
    assert sp.simplify(lsa.dirichlet_moment([[1, 0], [0, 0]], a) - sp.Rational(1, 2)) == 0


def test_kstate_d1_binary_anchor():
    # k = 2, alpha = 1 is the binary task at p = 1/2: 121/342 (lsa.md §2)
    assert lsa.kstate_optimum_d1(2, 1, 10).loss == sp.Rational(121, 342)
    assert lsa.kstate_optimum_d1(3, 1, 10).loss == sp.Rational(10836163, 10177110)


def test_kstate_chain_moment_powers():
    # s_1^2 with uniform start on {0, 1, 2}: (0 + 1 + 4)/3
    assert lsa.kstate_chain_moment((1, 1), 3) == sp.Rational(5, 3)


def test_phi_is_problem_c10():
    for d in (1, 2):
        b = sp.Matrix(sp.symbols(f"b0:{d + 1}"))
        A = sp.Matrix(d + 1, d, sp.symbols(f"A0:{(d + 1) * d}"))
        assert sp.expand(lsa.c10_apply(lsa.c10_matrices_phi(d), b, A) - lsa.phi(b, A)).is_zero_matrix


def test_exact_cover_system():
    system = lsa.exact_cover_system([{1, 2}, {3}, {2, 3}, {1}])
    assert system.d == 4 and len(system.equations) == 1 + 2 * 4 + 3
    x = {system.b[0]: 1, system.a[0]: 1}
    for i, v in enumerate((1, 1, 0, 0), start=1):
        x[system.b[i]] = x[system.a[i]] = v
    assert all(e.subs(x) == 0 for e in system.equations)
    assert lsa.exact_cover_groebner([{1, 2}, {2, 3}, {1, 3}])[1] is True
