import Foundation
import SoftmaxKernels
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import SoftmaxBench

/// `scripts/bench --plot`: the SVG chart rendered from a fixed set of report rows.
@Suite("Bench chart (--plot)")
struct PlotTests {
  static let workloads = [Workload.standard[0], Workload(name: "7x<&>", rows: 7, cols: 3)]
  static let ops = ["exp", "softmax", "cross-entropy"]
  /// ns per element of each op (exp is the floor), Float; Double takes twice as long.
  static let floatNs: [String: Double] = ["exp": 0.4, "softmax": 1.2, "cross-entropy": 3.5]

  static let info = RunInfo(
    date: "2026-01-02T03:04:05Z", cpu: "Test <CPU> & \"Co\" 'x'", isa: .active, mode: "accurate",
    threads: 1, quick: true, command: "scripts/bench --quick --plot a.svg")

  /// A result whose median is `ns` per element, with a spread around it, and exp floor `floor`.
  static func cell(_ op: String, _ w: Workload, _ dtype: DType, ns: Double, floor: Double) -> CellResult {
    let n = Double(w.elements)
    return CellResult(
      op: op, workload: w, dtype: dtype, timing: Timing(samples: [0.9 * ns * n, ns * n, 1.3 * ns * n], batch: 1),
      bytesPerElement: 8, referenceNsPerElement: 10 * ns, referenceRows: w.rows, expFloorNsPerElement: floor,
      error: WorstError(), errorRows: 1)
  }

  static func results(_ dtypes: [DType]) -> [CellResult] {
    var out = [CellResult]()
    for w in workloads {
      for d in dtypes {
        let scale = d == .float ? 1.0 : 2.0
        for op in ops { out.append(cell(op, w, d, ns: scale * floatNs[op]!, floor: scale * floatNs["exp"]!)) }
      }
    }
    return out
  }

  @Test("the SVG is well-formed XML with a Float and a Double bar and floor mark per cell, text escaped")
  func wellFormedWithBothPrecisions() throws {
    let svg = svgPlot(Self.results([.float, .double]), ops: Self.ops, workloads: Self.workloads, info: Self.info)
    let doc = try #require(ParsedSVG(svg))
    let cellsPerPrecision = Self.ops.count * Self.workloads.count
    for d in ["float", "double"] {
      #expect(doc.count(element: "rect", class: "bar \(d)") == cellsPerPrecision)
      #expect(doc.count(element: "line", class: "floor \(d)") == cellsPerPrecision)
      #expect(doc.count(element: "rect", class: "legend \(d)") == 1)
      #expect(doc.count(element: "line", class: "spread") == 2 * cellsPerPrecision)
    }
    #expect(doc.count(element: "line", class: "floor legend") == 1)
    #expect(doc.count(element: "g", class: "panel") == Self.ops.count)
    // Markup characters in the CPU name and a workload name come back as they were.
    #expect(doc.texts.contains { $0.contains(Self.info.cpu) })
    #expect(doc.texts.contains("7x<&>"))
    #expect(doc.texts.contains("Float") && doc.texts.contains("Double"))
    #expect(doc.texts.contains { $0.contains("ISA \(Self.info.isa.rawValue)") && $0.contains("mode accurate") })
    #expect(doc.texts.contains { $0.contains("2026-01-02T03:04:05Z") })
  }

  @Test("bars and floor marks sit where their values are on the shared log scale")
  func floorMarksAtTheFloor() throws {
    let svg = svgPlot(Self.results([.float, .double]), ops: Self.ops, workloads: Self.workloads, info: Self.info)
    let doc = try #require(ParsedSVG(svg))
    var barTop = [String: Double](), floorY = [String: Double]()
    for e in doc.elements {
      guard let cell = e.cell, let cls = e.attributes["class"] else { continue }
      if cls.hasPrefix("bar ") { barTop[cell] = Double(e.attributes["y"] ?? "") }
      if cls.hasPrefix("floor ") { floorY[cell] = Double(e.attributes["y1"] ?? "") }
    }
    #expect(barTop.count == 2 * Self.ops.count * Self.workloads.count)
    for w in Self.workloads {
      for d in ["float", "double"] {
        let key = { (op: String) in "\(op) \(w.name) \(d)" }
        let exp = try #require(barTop[key("exp")]), softmax = try #require(barTop[key("softmax")])
        let ce = try #require(barTop[key("cross-entropy")])
        // SVG y grows downwards: a slower op has a higher bar, so a smaller y.
        #expect(ce < softmax && softmax < exp)
        // The exp bar reaches its own floor; the others' floors sit below their tops, at exp's level.
        for op in Self.ops { #expect(abs(try #require(floorY[key(op)]) - exp) <= 0.1, "\(key(op))") }
      }
      // Double's bars (twice the time) are taller than Float's.
      #expect(try #require(barTop["softmax \(w.name) double"]) < (try #require(barTop["softmax \(w.name) float"])))
    }
  }

  @Test("one precision, or a cell without a time, still gives a well-formed chart")
  func partialResults() throws {
    var results = Self.results([.float])
    results[1].timing = Timing(samples: [], batch: 1)  // median NaN: no bar
    let svg = svgPlot(results, ops: Self.ops, workloads: Self.workloads, info: Self.info)
    let doc = try #require(ParsedSVG(svg))
    #expect(doc.count(element: "rect", class: "bar float") == Self.ops.count * Self.workloads.count - 1)
    #expect(doc.count(element: "rect", class: "bar double") == 0)
    #expect(doc.count(element: "rect", class: "legend double") == 0)
    #expect(!doc.texts.contains("Double"))
  }

  @Test("xmlEscaped: markup characters as entities, characters XML forbids replaced")
  func escaping() {
    #expect(xmlEscaped("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;")
    #expect(xmlEscaped("tab\tnew\nline\u{01}end\u{FFFE}") == "tab new line\u{FFFD}end\u{FFFD}")
    #expect(xmlEscaped("Intel(R) Xeon(R) @ 2.90GHz · µ") == "Intel(R) Xeon(R) @ 2.90GHz · µ")
  }
}

/// An SVG document parsed with Foundation's XMLParser: every element with its attributes and the
/// chart cell (`op workload dtype`) it belongs to, and the text of every `text` and `title`.
final class ParsedSVG: NSObject, XMLParserDelegate {
  struct Element {
    var name: String
    var attributes: [String: String]
    var cell: String?
  }
  private(set) var elements = [Element]()
  private(set) var texts = [String]()
  private var groups = [String?]()
  private var characters = ""

  /// nil when `svg` is not well-formed XML.
  init?(_ svg: String) {
    super.init()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = self
    guard parser.parse(), parser.parserError == nil, elements.first?.name == "svg" else { return nil }
  }

  func count(element: String, class cls: String) -> Int {
    elements.filter { $0.name == element && $0.attributes["class"] == cls }.count
  }

  func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    var cell = groups.last ?? nil
    if elementName == "g" {
      if let cls = attributes["class"], cls.hasPrefix("cell "), let op = attributes["data-op"],
        let w = attributes["data-workload"]
      {
        cell = "\(op) \(w) \(cls.dropFirst("cell ".count))"
      }
      groups.append(cell)
    }
    elements.append(Element(name: elementName, attributes: attributes, cell: cell))
    characters = ""
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) { characters += string }

  func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
    if elementName == "text" || elementName == "title" { texts.append(characters) }
    if elementName == "g" { groups.removeLast() }
    characters = ""
  }
}
