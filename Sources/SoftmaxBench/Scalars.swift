import SoftmaxKernels
import SoftmaxReference

/// The storage type of a report cell (`--dtypes`, the CSV `dtype` column).
enum DType: String, CaseIterable, Sendable {
  case float, double, half, bfloat16

  /// The Swift type's name, as the table and the chart title it.
  var title: String {
    switch self {
    case .float: "Float"
    case .double: "Double"
    case .half: "Float16"
    case .bfloat16: "BFloat16"
    }
  }

  /// The short name of the ratio columns and the markdown headers: F, D, H, BF.
  var letter: String {
    switch self {
    case .float: "F"
    case .double: "D"
    case .half: "H"
    case .bfloat16: "BF"
    }
  }

  /// The dtypes this build can run, in report order (`forEachScalarType`).
  static let available: [DType] = {
    struct Collect: ScalarTypeVisitor {
      var dtypes = [DType]()
      mutating func visit<S: BenchScalar>(_: S.Type) { dtypes.append(S.dtype) }
    }
    var c = Collect()
    forEachScalarType(&c)
    return c.dtypes
  }()
}

/// A storage type the report runs: rows in `Self`, arithmetic (and the per-row results:
/// logsumexp, losses) in `Arithmetic`, which has a scalar reference and a wider oracle.
///
/// For `Float` and `Double`, `Arithmetic` is the type itself. The 16-bit storage types have no
/// reference of their own: the package's contract for them is that every stored output is the
/// `Float` kernel's result on the widened input, rounded once; so their oracle is `Float`'s
/// (`Double`) on the widened rows, and their error is counted in the 16-bit type's units with a
/// bound of half an ulp of that type (the rounding) plus `Float`'s bound (see `storedError`).
protocol BenchScalar: SoftmaxScalar where Arithmetic: ReferenceScalar {
  /// The `--dtypes` name of the type.
  static var dtype: DType { get }
}

extension Float: BenchScalar { static var dtype: DType { .float } }
extension Double: BenchScalar { static var dtype: DType { .double } }

#if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
@available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *)
extension Float16: BenchScalar { static var dtype: DType { .half } }
#endif

extension BFloat16: BenchScalar { static var dtype: DType { .bfloat16 } }

/// Something done once per storage type, with the type known at compile time: each `visit` is
/// specialized for its type, so the kernels, the scalar reference and the oracle loops behind it
/// run specialized (through an existential metatype they would run generic, which is far slower
/// for the reference and the oracle).
protocol ScalarTypeVisitor {
  mutating func visit<S: BenchScalar>(_: S.Type)
}

/// Visits every storage type of this build, in report order: Float, Double, then the 16-bit
/// types the platform has. The one list of the report's types (a new type: its `BenchScalar`
/// conformance above, a `DType` case, and its line here).
func forEachScalarType<V: ScalarTypeVisitor>(_ v: inout V) {
  v.visit(Float.self)
  v.visit(Double.self)
  #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
  if #available(macOS 11.0, iOS 14.0, watchOS 7.0, tvOS 14.0, *) { v.visit(Float16.self) }
  #endif
  v.visit(BFloat16.self)
}

// MARK: - errors in units of the storage type

/// The constants of one floating-point type, as values of the oracle's type `W`: what an
/// accuracy bound is counted in.
struct Precision<W: BinaryFloatingPoint> {
  /// `ulpOfOne`.
  let eps: W
  let leastNormal: W
  let leastNonzero: W
  /// The ulp of `v` rounded to the type (the greatest finite value's ulp beyond its range).
  let ulp: (W) -> W

  init<T: BinaryFloatingPoint>(_: T.Type) {
    eps = W(T.ulpOfOne)
    leastNormal = W(T.leastNormalMagnitude)
    leastNonzero = W(T.leastNonzeroMagnitude)
    ulp = { v in
      let t = T(v)
      return W(t.isFinite ? t.ulp : T.greatestFiniteMagnitude.ulp)
    }
  }
}

/// An accuracy bound of the package (SPEC.md, `SoftmaxReference.Accuracy`) for one element. Stated
/// for a type of precision `p` (`unit(in:)`), it gives the unit the error is counted in and the
/// bound in units of it.
enum ErrorMeasure<W: BinaryFloatingPoint> {
  /// Softmax (`Accuracy.softmax`): relative error <= `|x_j - m| + 4` ulpOfOne (`shift` =
  /// `|x_j - m|`), or for a true value below the normal range, absolute error <= 2 leastNormal.
  case softmax(oracle: W, shift: Double)
  /// Log-softmax (`Accuracy.logScale`): 4 ulp(max(|x_j|, |lse|)).
  case logScale(x: W, lse: W)
  /// The gradients: `bound` units of `ulpOfOne x magnitude + leastNormal / 2`, with `magnitude`
  /// the sum of the absolute values of the terms the exact gradient is formed from (with a bound
  /// of 8, the tests' budget `8 eps magnitude + 4 leastNormal`).
  case gradient(magnitude: W, bound: Double)
  /// The exp floor: 1 ulp of the correctly rounded result (SLEEF's u10 promise).
  case exp(oracle: W)

  func unit(in p: Precision<W>) -> (unit: W, bound: Double) {
    switch self {
    case .softmax(let o, let shift): o < p.leastNormal ? (p.leastNormal, 2) : (o * p.eps, shift + 4)
    case .logScale(let x, let lse): (Swift.max(p.ulp(Swift.max(abs(x), abs(lse))), p.leastNonzero), 4)
    case .gradient(let magnitude, let bound): (p.eps * magnitude + p.leastNormal / 2, bound)
    case .exp(let o): (Swift.max(p.ulp(o), p.leastNonzero), 1)
    }
  }
}

/// The error of a stored output element `y` against the oracle's value `o`, in units of the
/// storage type `S` (`measure` stated with `S`'s constants, `ps`).
///
/// When `S` is its own arithmetic type (Float, Double) the bound is `measure`'s, as
/// `SoftmaxReference.Accuracy` states it. A 16-bit element is the `Float` result `v` rounded once,
/// so `|y - o| <= |y - v| + |v - o| <= ulp_S(|o| + slack) / 2 + slack`, with `slack` the `Float`
/// bound in absolute terms (`measure` with `Float`'s constants, `pa`); that sum, in `S`'s unit,
/// is the bound. A non-finite result must be the oracle rounded to `S` exactly (an exp beyond
/// Float16's range is the infinity it rounds to).
func storedError<S: BenchScalar>(
  _ y: S, oracle o: S.Arithmetic.Wide, _ measure: ErrorMeasure<S.Arithmetic.Wide>,
  storage ps: Precision<S.Arithmetic.Wide>, arithmetic pa: Precision<S.Arithmetic.Wide>
) -> ElementError {
  typealias W = S.Arithmetic.Wide
  let rounded = W(S(o))
  if rounded.isNaN || y.isNaN { return ElementError(error: rounded.isNaN && y.isNaN ? 0 : .infinity, bound: 0) }
  if rounded.isInfinite || y.isInfinite { return ElementError(error: W(y) == rounded ? 0 : .infinity, bound: 0) }
  let diff = abs(W(y) - o)
  let (unit, bound) = measure.unit(in: ps)
  if S.self == S.Arithmetic.self { return ElementError(error: Double(diff / unit), bound: bound) }
  let (arithmeticUnit, arithmeticBound) = measure.unit(in: pa)
  let slack = W(arithmeticBound) * arithmeticUnit
  let rounding = ps.ulp(abs(o) + slack) / 2
  return ElementError(error: Double(diff / unit), bound: Double((rounding + slack) / unit))
}
