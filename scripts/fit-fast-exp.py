#!/usr/bin/env python3
"""Fits the fast exp's polynomial (Sources/SoftmaxKernelsCore/FastExp.swift) and checks it.

    python3 scripts/fit-fast-exp.py float     # degree 6, the Float coefficients
    python3 scripts/fit-fast-exp.py double    # degree 11, the Double coefficients

e^r is approximated on |r| <= ln 2 / 2 by 1 + r + c2 r^2 + ... + cd r^d, evaluated in Horner form
with one FMA per degree: p = cd; p = p r + c(d-1); ...; p = p r + c2; p = p r + 1; e = p r + 1.
The coefficients minimise the maximum *relative* error (Lawson's iteratively reweighted least
squares on Chebyshev nodes, in 60-digit arithmetic), then are rounded to the target type. The
script prints them as Swift hexadecimal literals, the maximum relative error before rounding, and
the worst error in ulps of e^r when the Horner steps are evaluated in the target type (each FMA
rounded once, emulated with mpmath). Needs mpmath (pip install mpmath).
"""
import sys

import mpmath as mp

# degree, significand bits, Chebyshev nodes, reweighting iterations
TYPES = {"float": (6, 24, 400, 60), "double": (11, 53, 300, 40)}


def fit(degree, nodes, iterations):
    mp.mp.dps = 60
    a = mp.log(2) / 2 * mp.mpf("1.0001")
    xs = [a * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / nodes) for k in range(nodes)]
    powers = list(range(2, degree + 1))
    w = [mp.mpf(1)] * nodes
    for _ in range(iterations):
        A = mp.matrix(nodes, len(powers))
        b = mp.matrix(nodes, 1)
        for i, r in enumerate(xs):
            s = mp.sqrt(w[i]) / mp.e**r
            for j, k in enumerate(powers):
                A[i, j] = r**k * s
            b[i] = (mp.e**r - 1 - r) * s
        c = mp.lu_solve(A.T * A, A.T * b)
        err = [abs((1 + r + sum(c[j] * r**k for j, k in enumerate(powers))) / mp.e**r - 1) for r in xs]
        total = sum(w[i] * err[i] for i in range(nodes))
        w = [w[i] * err[i] / total for i in range(nodes)]
    return [c[j] for j in range(len(powers))], max(err)


def round_to(x, bits):
    with mp.workprec(bits):
        return +mp.mpf(x)


def horner_worst_ulps(coefficients, bits, samples=20001):
    """Worst error of the Horner evaluation in the target precision, in ulps of e^r."""
    def fma(x, y, z):
        with mp.workprec(200):
            exact = mp.mpf(x) * y + z
        return round_to(exact, bits)
    worst = mp.mpf(0)
    a = mp.log(2) / 2
    for k in range(samples):
        r = round_to(-a + 2 * a * k / (samples - 1), bits)
        p = coefficients[-1]
        for c in reversed(coefficients[:-1]):
            p = fma(p, r, c)
        p = fma(p, r, 1)
        e = fma(p, r, 1)
        exact = mp.e**r
        ulp = mp.mpf(2) ** (mp.floor(mp.log(exact, 2)) - (bits - 1))
        worst = max(worst, abs(e - exact) / ulp)
    return worst


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "float"
    if kind not in TYPES:
        sys.exit(f"usage: {sys.argv[0]} float|double")
    degree, bits, nodes, iterations = TYPES[kind]
    exact, max_error = fit(degree, nodes, iterations)
    rounded = [round_to(c, bits) for c in exact]
    print(f"{kind}: degree {degree}, max relative error before rounding {mp.nstr(max_error, 3)}")
    for k, c in reversed(list(zip(range(2, degree + 1), rounded))):
        print(f"  c{k} = {float(c).hex()}")
    print(f"worst error of e^r evaluated in {kind}: {mp.nstr(horner_worst_ulps(rounded, bits), 3)} ulp")


if __name__ == "__main__":
    main()
