#!/usr/bin/env python3
"""Fits the polynomial of the fast log1p on [0, 1] (Sources/SoftmaxKernelsCore/FastLog1p.swift).

    python3 scripts/fit-fast-log1p.py float     # 4 terms, the Float coefficients
    python3 scripts/fit-fast-log1p.py double    # 7 terms, the Double coefficients

After the reduction u = 1 + x = 2^k (1 + f) with f in [sqrt(1/2) - 1, sqrt(2) - 1], ln(1 + f) is
2 atanh(s) = 2 s + s R(z) with s = f / (2 + f) and z = s^2 <= (3 - 2 sqrt 2)^2 = 0.0294.
R(z) = 2 z / 3 + 2 z^2 / 5 + ... is approximated by a1 z + a2 z^2 + ... + ad z^d, evaluated as
z (a1 + z (a2 + ...)). The result's error is about half of R's absolute error (ln(1 + f) is
about 2 s), so the coefficients minimise the maximum *absolute* error of R (Lawson's
iteratively reweighted least squares on Chebyshev nodes, in 60-digit arithmetic), then are
rounded to the target type. Prints them as Swift hexadecimal literals and the maximum error of
R before and after rounding, in units of the target type's ulpOfOne. Needs mpmath.
"""
import sys

import mpmath as mp

# terms, significand bits, Chebyshev nodes, reweighting iterations
TYPES = {"float": (3, 24, 200, 60), "double": (6, 53, 200, 60)}


def exact_r(z):
    s = mp.sqrt(z)
    return (mp.log((1 + s) / (1 - s)) - 2 * s) / s if s > 0 else mp.mpf(0)


def fit(terms, nodes, iterations):
    mp.mp.dps = 60
    zmax = (3 - 2 * mp.sqrt(2)) ** 2 * mp.mpf("1.0001")
    zs = [zmax / 2 * (1 + mp.cos(mp.pi * (k + mp.mpf(1) / 2) / nodes)) for k in range(nodes)]
    w = [mp.mpf(1)] * nodes
    for _ in range(iterations):
        A = mp.matrix(nodes, terms)
        b = mp.matrix(nodes, 1)
        for i, z in enumerate(zs):
            s = mp.sqrt(w[i])
            for j in range(terms):
                A[i, j] = z ** (j + 1) * s
            b[i] = exact_r(z) * s
        c = mp.lu_solve(A.T * A, A.T * b)
        err = [abs(evaluate([c[j] for j in range(terms)], z) - exact_r(z)) for z in zs]
        total = sum(w[i] * err[i] for i in range(nodes))
        w = [w[i] * err[i] / total for i in range(nodes)]
    return [c[j] for j in range(terms)], zmax


def evaluate(c, z):
    p = c[-1]
    for a in reversed(c[:-1]):
        p = p * z + a
    return p * z


def round_to(x, bits):
    with mp.workprec(bits):
        return +mp.mpf(x)


def worst(c, zmax, samples=4001):
    return max(abs(evaluate(c, zmax * k / (samples - 1)) - exact_r(zmax * k / (samples - 1))) for k in range(samples))


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "float"
    if kind not in TYPES:
        sys.exit(f"usage: {sys.argv[0]} float|double")
    terms, bits, nodes, iterations = TYPES[kind]
    exact, zmax = fit(terms, nodes, iterations)
    rounded = [round_to(c, bits) for c in exact]
    eps = mp.mpf(2) ** (1 - bits)
    print(f"{kind}: {terms} terms on z <= {mp.nstr(zmax, 6)}")
    for k, c in enumerate(rounded, start=1):
        print(f"  a{k} = {float(c).hex()}   (Taylor {mp.nstr(mp.mpf(2) / (2 * k + 1), 8)})")
    print(f"max |error of R| before rounding: {mp.nstr(worst(exact, zmax) / eps, 3)} ulpOfOne")
    print(f"max |error of R| after rounding:  {mp.nstr(worst(rounded, zmax) / eps, 3)} ulpOfOne")


if __name__ == "__main__":
    main()
