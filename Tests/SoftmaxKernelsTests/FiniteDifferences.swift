import SoftmaxReference

// Central finite differences in the wide type with an error bound derived from the difference
// itself, not a guessed tolerance. For f evaluated with absolute rounding error at most e (at
// every point used), |f''| <= m2 and |f'''| <= m3 on [x - h, x + h], the difference
//   (f(x + h+) - f(x - h-)) / (h+ + h-),  h+ = (x + h) - x,  h- = x - (x - h)  (both exact)
// differs from f'(x) by at most  m2 |h+ - h-| / 2 + m3 max(h+, h-)^2 / 6  (Taylor)  +
// 2 e / (h+ + h-)  (rounding). h = (3 e / m3)^(1/3) minimizes the sum (at most 0.05, so that
// bounds taken at x hold on the interval within a factor e^0.1). The tolerance returned is
// twice that bound.

/// f'(x_k) by a central difference, and the bound on its error.
func centralDifference<W: ElementaryScalar>(
  _ f: ([W]) -> W, at x: [W], _ k: Int, roundingError e: W, secondDerivative m2: W, thirdDerivative m3: W
) -> (value: W, tolerance: W) {
  let ed = Double(e), m3d = Double(m3)
  var h = m3d > 0 && ed > 0 ? Double.libmExp(Double.libmLog(3 * ed / m3d) / 3) : 1
  h = Swift.min(Swift.max(h, 1e-30), 0.05)
  var p = x, q = x
  p[k] = x[k] + W(h)
  q[k] = x[k] - W(h)
  let hp = p[k] - x[k], hm = x[k] - q[k]
  let value = (f(p) - f(q)) / (hp + hm)
  let hmax: W = Swift.max(hp, hm)
  let asymmetry: W = m2 * abs(hp - hm) / 2
  let truncation: W = m3 * hmax * hmax / 6
  let rounding: W = 2 * e / (hp + hm)
  let bound = asymmetry + truncation + rounding
  return (value, 2 * bound)
}

/// max over p in [0, 1] of |p (1 - p) (1 - 2 p)|, the largest third derivative of logsumexp
/// (and of softplus) along one coordinate: 1 / (6 sqrt 3) = 0.0962..., rounded up.
let lseThirdDerivativeBound = 0.0963
