/// The `--plot FILE.svg` chart: median ns per element of each operation and workload, the storage
/// types of the report side by side (Float beside Double by default), one panel per operation on
/// one shared log scale, each bar with its p10-p90 spread and the exp floor of its workload and
/// storage type (the `exp` row, measured for every report) marked across it as a dashed line.
///
/// `svgPlot` is a pure function of the report's rows, so tests can render and parse it. The SVG is
/// written by hand: a few rects, lines and texts, no plotting dependency.

/// The colour of a storage type's bars and legend entry.
private func colour(_ d: DType) -> String {
  switch d {
  case .float: "#4c78a8"
  case .double: "#f58518"
  case .half: "#54a24b"
  case .bfloat16: "#b279a2"
  }
}

/// Layout, in SVG user units (px).
private enum Layout {
  static let marginLeft = 44.0, marginRight = 16.0, headerHeight = 98.0, footerHeight = 40.0
  static let panelGap = 18.0, panelTitleHeight = 20.0, plotHeight = 170.0, xLabelHeight = 30.0
  static let yAxisWidth = 38.0, barWidth = 13.0, groupGap = 12.0, minimumWidth = 700.0
  static var panelHeight: Double { panelTitleHeight + plotHeight + xLabelHeight }
}

/// The chart as SVG text: one panel per operation in `ops` (report order) with results, bars for
/// the `workloads` in the order given, the storage types in report order in each group.
func svgPlot(_ results: [CellResult], ops: [String], workloads: [Workload], info: RunInfo) -> String {
  let shownOps = ops.filter { op in results.contains { $0.op == op } }
  let dtypes = storageTypes(in: results)
  func cell(_ op: String, _ w: Workload, _ d: DType) -> CellResult? {
    results.first { $0.op == op && $0.workload == w && $0.dtype == d }
  }

  // One log scale for every panel, so bars compare across operations too.
  let values = results.flatMap { [$0.nsPerElement, $0.p10, $0.p90, $0.expFloorNsPerElement] }
    .filter { $0.isFinite && $0 > 0 }
  var lo = (values.min().map { log10($0).rounded(.down) }) ?? -1
  var hi = (values.max().map { log10($0).rounded(.up) }) ?? 1
  if hi <= lo { lo -= 0.5; hi += 0.5 }
  /// Height above the panel's x axis of the value `v` (nil when it cannot be drawn on a log scale).
  func barHeight(_ v: Double) -> Double? {
    guard v.isFinite, v > 0 else { return nil }
    return Layout.plotHeight * (log10(v) - lo) / (hi - lo)
  }

  let columns = shownOps.count <= 3 ? Swift.max(1, shownOps.count) : shownOps.count == 4 ? 2 : 3
  let panelRows = Swift.max(1, (shownOps.count + columns - 1) / columns)
  let groupWidth = Double(Swift.max(1, dtypes.count)) * Layout.barWidth + Layout.groupGap
  let plotWidth = Swift.max(120, Double(workloads.count) * groupWidth)
  let panelWidth = Layout.yAxisWidth + plotWidth
  let title =
    "SoftmaxKernels \(info.quick ? "quick " : "")benchmark: median ns per element, "
    + dtypes.map(\.title).joined(separator: dtypes.count <= 2 ? " beside " : ", ")
  // Wide enough for the title (15 px bold: about 8.6 px a character) and the legend even with
  // one or two small panels.
  let width = Swift.max(
    Layout.minimumWidth, Layout.marginLeft + 8.6 * Double(title.count) + Layout.marginRight,
    Layout.marginLeft + 80 * Double(dtypes.count) + 500,
    Layout.marginLeft + Double(columns) * panelWidth + Double(columns - 1) * Layout.panelGap + Layout.marginRight)
  let panelsHeight = Double(panelRows) * Layout.panelHeight + Double(panelRows - 1) * Layout.panelGap
  let height = Layout.headerHeight + panelsHeight + Layout.footerHeight

  var svg = [String]()
  svg.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
  svg.append(
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(px(width))\" height=\"\(px(height))\" "
      + "viewBox=\"0 0 \(px(width)) \(px(height))\" font-family=\"sans-serif\" font-size=\"11\">")
  let machine = "\(info.date), \(info.cpu)"
  let setup =
    "ISA \(info.isa.rawValue) (\(info.widths)), mode \(info.mode), threads \(info.threads)"
    + (info.quick ? ", --quick" : "")
  svg.append("<title>\(xmlEscaped(title + "; " + machine + "; " + setup))</title>")
  svg.append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>")
  svg.append(text(Layout.marginLeft, 22, title, attributes: "font-size=\"15\" font-weight=\"bold\""))
  svg.append(text(Layout.marginLeft, 40, machine, attributes: "fill=\"#333333\""))
  svg.append(text(Layout.marginLeft, 55, setup, attributes: "fill=\"#333333\""))

  // Legend: the precisions, then the spread and the floor marks.
  var x = Layout.marginLeft
  let legendY = 76.0
  for d in dtypes {
    svg.append(
      "<rect class=\"legend \(d.rawValue)\" x=\"\(px(x))\" y=\"\(px(legendY - 9))\" width=\"12\" height=\"10\" "
        + "fill=\"\(colour(d))\"/>")
    svg.append(text(x + 16, legendY, d.title))
    x += 80
  }
  svg.append(line(x + 5, legendY - 10, x + 5, legendY + 1, attributes: "stroke=\"#222222\""))
  svg.append(text(x + 14, legendY, "p10-p90 of the samples"))
  x += 160
  svg.append(floorMark(x, x + 18, legendY - 4, dtype: nil))
  svg.append(text(x + 24, legendY, "exp floor (the exp row, same workload and type)"))

  for (index, op) in shownOps.enumerated() {
    let left = Layout.marginLeft + Double(index % columns) * (panelWidth + Layout.panelGap)
    let top = Layout.headerHeight + Double(index / columns) * (Layout.panelHeight + Layout.panelGap)
    let plotLeft = left + Layout.yAxisWidth
    let plotTop = top + Layout.panelTitleHeight
    let axisY = plotTop + Layout.plotHeight
    func y(_ v: Double) -> Double? { barHeight(v).map { axisY - $0 } }

    svg.append("<g class=\"panel\" data-op=\"\(xmlEscaped(op))\">")
    svg.append(text(plotLeft, top + 13, op, attributes: "font-size=\"12\" font-weight=\"bold\""))
    svg.append(
      "<rect x=\"\(px(plotLeft))\" y=\"\(px(plotTop))\" width=\"\(px(plotWidth))\" height=\"\(px(Layout.plotHeight))\" "
        + "fill=\"#f7f7f7\" stroke=\"#999999\" stroke-width=\"0.5\"/>")
    // Grid lines: labeled at powers of ten; at 2 and 5 times them too, labeled when the scale spans
    // at most two decades.
    let decades = Int((hi - lo).rounded(.up))
    var exponent = Int(lo.rounded(.down))
    while Double(exponent) <= hi {
      for m in [1.0, 2.0, 5.0] {
        let v = m * pow(10, Double(exponent))
        guard let gy = y(v), gy >= plotTop - 0.01, gy <= axisY + 0.01 else { continue }
        let major = m == 1
        svg.append(
          line(plotLeft, gy, plotLeft + plotWidth, gy,
               attributes: "stroke=\"\(major ? "#bbbbbb" : "#dddddd")\" stroke-width=\"0.7\""))
        if major || decades <= 2 {
          svg.append(text(plotLeft - 4, gy + 3.5, tickLabel(v), attributes: "font-size=\"9\" text-anchor=\"end\""))
        }
      }
      exponent += 1
    }
    for (wi, w) in workloads.enumerated() {
      let groupLeft = plotLeft + (plotWidth - Double(workloads.count) * groupWidth) / 2 + Double(wi) * groupWidth
        + Layout.groupGap / 2
      svg.append(
        text(groupLeft + (groupWidth - Layout.groupGap) / 2, axisY + 13, w.name,
             attributes: "font-size=\"10\" text-anchor=\"middle\""))
      for (di, d) in dtypes.enumerated() {
        guard let c = cell(op, w, d), let barTop = y(c.nsPerElement) else { continue }
        let bx = groupLeft + Double(di) * Layout.barWidth
        let centre = bx + Layout.barWidth / 2
        svg.append(
          "<g class=\"cell \(d.rawValue)\" data-op=\"\(xmlEscaped(op))\" data-workload=\"\(xmlEscaped(w.name))\">")
        svg.append("<title>\(xmlEscaped(tooltip(c)))</title>")
        svg.append(
          "<rect class=\"bar \(d.rawValue)\" x=\"\(px(bx + 1))\" y=\"\(px(barTop))\" width=\"\(px(Layout.barWidth - 2))\" "
            + "height=\"\(px(axisY - barTop))\" fill=\"\(colour(d))\"/>")
        if let y10 = y(c.p10), let y90 = y(c.p90) {
          svg.append(line(centre, y90, centre, y10, attributes: "class=\"spread\" stroke=\"#222222\" stroke-width=\"1\""))
        }
        if let fy = y(c.expFloorNsPerElement) {
          svg.append(floorMark(bx - 1, bx + Layout.barWidth + 1, fy, dtype: d))
        }
        svg.append("</g>")
      }
    }
    svg.append(
      text(plotLeft + plotWidth / 2, axisY + 26, "workload",
           attributes: "font-size=\"10\" text-anchor=\"middle\" fill=\"#555555\""))
    svg.append("</g>")
  }

  // The y axis label, once, beside the panels.
  let midY = Layout.headerHeight + panelsHeight / 2
  svg.append(
    text(14, midY, "median ns per element (log scale)",
         attributes: "text-anchor=\"middle\" transform=\"rotate(-90 14 \(px(midY)))\""))
  let shapes = workloads.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")
  let footerY = Layout.headerHeight + panelsHeight + 22
  svg.append(text(Layout.marginLeft, footerY, "Workloads (rows x cols): " + shapes, attributes: "fill=\"#333333\""))
  svg.append("</svg>")
  return svg.joined(separator: "\n") + "\n"
}

/// The hover text of one bar.
private func tooltip(_ c: CellResult) -> String {
  let d = c.nsPerElement < 10 ? 3 : 2
  return "\(c.op) \(c.workload.name) (\(c.workload.shape)) \(c.dtype.title): \(fmt(c.nsPerElement, d)) ns/element, "
    + "p10-p90 \(fmt(c.p10, d))-\(fmt(c.p90, d)); exp floor \(fmt(c.expFloorNsPerElement, d)) "
    + "(x\(fmt(c.timesExpFloor, 2)))"
}

/// The exp floor mark: a short dashed line across a bar (or in the legend).
private func floorMark(_ x1: Double, _ x2: Double, _ y: Double, dtype: DType?) -> String {
  let cls = dtype.map { "floor \($0.rawValue)" } ?? "floor legend"
  return line(x1, y, x2, y, attributes: "class=\"\(cls)\" stroke=\"#000000\" stroke-width=\"2\" stroke-dasharray=\"3 2\"")
}

private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, attributes: String) -> String {
  "<line x1=\"\(px(x1))\" y1=\"\(px(y1))\" x2=\"\(px(x2))\" y2=\"\(px(y2))\" \(attributes)/>"
}

private func text(_ x: Double, _ y: Double, _ content: String, attributes: String = "") -> String {
  "<text x=\"\(px(x))\" y=\"\(px(y))\"\(attributes.isEmpty ? "" : " " + attributes)>\(xmlEscaped(content))</text>"
}

/// A coordinate with one decimal.
private func px(_ v: Double) -> String { fmt(v, 1) }

/// 0.01, 0.2, 5, 100: as many decimals as the value needs.
private func tickLabel(_ v: Double) -> String {
  v >= 1 ? fmt(v, 0) : fmt(v, Int((-log10(v)).rounded(.up)))
}

/// `s` safe in XML text and attribute values: the five markup characters as entities, and the
/// characters XML 1.0 does not allow (C0 controls other than tab, newline and return; U+FFFE,
/// U+FFFF) as U+FFFD. Tab, newline and return become spaces, as an attribute would read them.
func xmlEscaped(_ s: String) -> String {
  var out = ""
  for u in s.unicodeScalars {
    switch u {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&apos;"
    case "\t", "\n", "\r": out += " "
    default:
      if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
        out += "\u{FFFD}"
      } else {
        out.unicodeScalars.append(u)
      }
    }
  }
  return out
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
