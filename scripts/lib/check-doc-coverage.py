#!/usr/bin/env python3
"""Checks that every public symbol of a module is documented, from the module's symbol graphs.

Usage: check-doc-coverage.py EXCEPTIONS MODULE=GRAPH_DIR [MODULE=GRAPH_DIR ...]

Run by scripts/docs. For each public (or open) symbol declared in Sources/MODULE/ (symbols that
SwiftPM or the compiler synthesizes, and those inherited from protocols of other modules, have no
source location there and are skipped; so are underscored and SPI symbols, which the compiler
leaves out of the graph), it requires:

- a doc comment of the symbol's own, with a summary line (not one inherited from a protocol);
- for a function, method, initializer, operator or subscript: an entry for each parameter, under
  `- Parameters:` or as `- Parameter name:` (DocC matches the internal name);
- for one that returns a value (not an initializer): `- Returns:`;
- for one that throws: `- Throws:`.

DocC itself warns (and scripts/docs fails) when a documented parameter does not exist.

EXCEPTIONS lists problems that are known and owned elsewhere, one `MODULE SYMBOL: PROBLEM` line
each, exactly as this script prints them. A listed problem is not an error; a listed problem that
no longer occurs is printed as a note (remove its line). Any other problem is an error: exits 1.
"""

import glob
import json
import os
import re
import sys

FUNCTION_KINDS = {
    "swift.func", "swift.method", "swift.type.method", "swift.init", "swift.func.op",
    "swift.subscript", "swift.type.subscript",
}


def doc_lines(symbol, module):
    doc = symbol.get("docComment")
    if not doc or doc.get("module", module) != module:
        return None
    return [line["text"] for line in doc.get("lines", [])]


def documented_parameters(lines):
    names = set()
    in_list = False
    for line in lines:
        m = re.match(r"^\s*-\s+parameter\s+([^\s:]+)\s*:", line, re.IGNORECASE)
        if m:
            names.add(m.group(1))
            in_list = False
            continue
        if re.match(r"^\s*-\s+parameters\s*:", line, re.IGNORECASE):
            in_list = True
            continue
        if in_list:
            m = re.match(r"^\s{2,}-\s+([^\s:]+)\s*:", line)
            if m:
                names.add(m.group(1))
            elif re.match(r"^\s*-\s+\w", line) and not line.startswith("  "):
                in_list = False
    return names


def has_section(lines, name):
    return any(re.match(r"^\s*-\s+%s\s*:" % name, line, re.IGNORECASE) for line in lines)


def returns_value(symbol):
    if symbol["kind"]["identifier"] == "swift.init":
        return False
    returns = "".join(f.get("spelling", "") for f in symbol.get("functionSignature", {}).get("returns", []))
    return returns.strip() not in ("", "()", "Void")


def throws(symbol):
    return any(f.get("kind") == "keyword" and f.get("spelling") in ("throws", "rethrows")
               for f in symbol.get("declarationFragments", []))


def problems(module, graph_dir):
    found = []
    seen = set()
    files = sorted(glob.glob(os.path.join(graph_dir, module + ".symbols.json"))
                   + glob.glob(os.path.join(graph_dir, module + "@*.symbols.json")))
    if not files:
        sys.exit("check-doc-coverage: no symbol graph for %s in %s" % (module, graph_dir))
    count = 0
    for path in files:
        graph = json.load(open(path))
        for symbol in graph["symbols"]:
            uri = symbol.get("location", {}).get("uri", "")
            if "/Sources/%s/" % module not in uri:
                continue
            if symbol.get("accessLevel") not in ("public", "open"):
                continue
            name = ".".join(symbol["pathComponents"])
            declaration = "".join(f.get("spelling", "") for f in symbol.get("declarationFragments", []))
            key = (name, declaration)
            if key in seen:
                continue
            seen.add(key)
            count += 1
            kind = symbol["kind"]["identifier"]

            def report(problem):
                found.append("%s %s: %s" % (module, name, problem))

            lines = doc_lines(symbol, module)
            if lines is None or not lines or not lines[0].strip() or lines[0].lstrip().startswith("- "):
                report("no doc comment")
                continue
            if kind not in FUNCTION_KINDS:
                continue
            parameters = symbol.get("functionSignature", {}).get("parameters", [])
            documented = documented_parameters(lines)
            for p in parameters:
                internal = p.get("internalName", p["name"])
                if internal == "_":
                    internal = p["name"]
                if internal not in documented:
                    report("no Parameters entry for '%s'" % internal)
            if returns_value(symbol) and not has_section(lines, "returns"):
                report("no Returns")
            if throws(symbol) and not has_section(lines, "throws"):
                report("no Throws")
    return count, found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    exceptions_path = sys.argv[1]
    known = set()
    if os.path.exists(exceptions_path):
        for line in open(exceptions_path):
            line = line.strip()
            if line and not line.startswith("#"):
                known.add(line)
    all_found = set()
    errors = []
    for argument in sys.argv[2:]:
        module, graph_dir = argument.split("=", 1)
        count, found = problems(module, graph_dir)
        unique = sorted(set(found))
        all_found.update(unique)
        new = [p for p in unique if p not in known]
        print("%s: %d public symbols, %d documentation problems (%d listed in %s)"
              % (module, count, len(unique), len(unique) - len(new), os.path.basename(exceptions_path)))
        errors += ["error: " + p for p in new]
    modules = {a.split("=", 1)[0] for a in sys.argv[2:]}
    for p in sorted(known):
        if p.split(" ", 1)[0] in modules and p not in all_found:
            # A note, not an error: the symbol may exist only on some platforms (Float80).
            print("note: no longer a problem here; remove it from %s if it is fixed: %s" % (exceptions_path, p))
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
