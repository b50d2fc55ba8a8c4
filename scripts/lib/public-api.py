#!/usr/bin/env python3
"""Prints the public API of one Swift module as sorted, stable lines (used by scripts/check-public-api).

    public-api.py MODULE SDK_JSON SYMBOL_GRAPH_DIR

SDK_JSON is `swift-api-digester -dump-sdk` of the module: the authority on what is public. It has
every public declaration, underscored ones included (the symbol graph leaves those out), and lists
each type's conformances; it also has SPI declarations (left out here: SPI is not API), synthesized
ones (left out: their conformance is listed) and package ones (marked `isInternal`; left out). SYMBOL_GRAPH_DIR holds `swift-symbolgraph-extract`'s output for
the module: where it has a declaration (looked up by USR) its declaration fragments are printed,
as the source spells them (labels, default values, typed throws); otherwise the declaration is
rebuilt from the SDK dump.

One line per declaration, `PATH | DECLARATION`, and one per conformance,
`TYPE | conforms to PROTOCOL` (for a type of another module, such as `Float`, only conformances to
this module's protocols: `extension Float : SoftmaxScalar`). Copyable and Escapable, which every
type has, are left out.
"""
import glob
import json
import re
import sys

module, sdk_path, graph_dir = sys.argv[1:4]
usr_prefix = "s:%d%s" % (len(module), module)
implied = {"Copyable", "Escapable"}

fragments = {}
for path in glob.glob(graph_dir + "/*.symbols.json"):
    with open(path) as f:
        for symbol in json.load(f).get("symbols", []):
            text = "".join(fragment["spelling"] for fragment in symbol.get("declarationFragments", []))
            fragments[symbol["identifier"]["precise"]] = text


def clean(text):
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\b(Swift|_Concurrency|%s)\." % re.escape(module), "", text)


def type_name(node):
    return clean(node.get("printedName", "?"))


def rebuilt(node):
    """A declaration from the SDK dump alone (for what the symbol graph leaves out)."""
    kind, name = node.get("declKind", node["kind"]), node.get("printedName", node.get("name", "?"))
    children = [c for c in node.get("children", []) if c["kind"].startswith("Type")]
    static = "static " if node.get("static") else ""
    generic = clean(node.get("sugared_genericSig", node.get("genericSig", "")))
    generic, where = (re.sub(r" where .*>$", ">", generic), re.sub(r"^<.*? where (.*)>$", r" where \1", generic)) \
        if " where " in generic else (generic, "")
    throws = " throws" if node.get("throwing") else ""
    if kind in ("Func", "Constructor", "Subscript"):
        base, _, labels = name.partition("(")
        labels = [l for l in labels.rstrip(")").split(":") if l != ""] if labels else []
        params = ", ".join("%s: %s" % (label, type_name(t)) for label, t in zip(labels, children[1:]))
        keyword = {"Func": static + "func ", "Constructor": "", "Subscript": static + ""}[kind]
        result = "" if kind == "Constructor" or not children or type_name(children[0]) in ("()", "Void") \
            else " -> " + type_name(children[0])
        return "%s%s%s(%s)%s%s%s" % (keyword, base, generic, params, throws, result, where)
    if kind == "Var":
        setter = any(a.get("accessorKind") == "set" for a in node.get("accessors", []))
        accessors = " { get set }" if setter else " { get }"
        return "%s%s %s: %s%s" % (static, "let" if node.get("isLet") else "var", name, type_name(children[0]), accessors)
    if kind == "EnumElement":
        return "case " + name
    if kind == "TypeAlias":
        return "typealias %s = %s" % (name, type_name(children[0]) if children else "?")
    if kind == "AssociatedType":
        return "associatedtype " + name
    return "%s %s%s%s" % (kind.lower(), name, generic, where)


lines = []


def walk(node, parent):
    for child in node.get("children", []):
        kind = child["kind"]
        if kind == "Import" or kind.startswith("Type") and kind != "TypeDecl" and kind != "TypeAlias":
            continue
        # SPI is not API; implicit ones are synthesized (their conformance is listed); isInternal
        # marks package and @usableFromInline internal declarations.
        if child.get("spi_group_names") or child.get("implicit") or child.get("isInternal"):
            continue
        name = child.get("printedName", child.get("name", "?"))
        path = parent + "." + name if parent else name
        external = kind == "TypeDecl" and child.get("moduleName", module) != module
        if kind == "TypeDecl":
            for conformance in child.get("conformances", []):
                protocol = conformance["printedName"]
                if protocol in implied:
                    continue
                if external:
                    if conformance.get("usr", "").startswith(usr_prefix):
                        lines.append("%s | extension %s : %s" % (path, name, protocol))
                else:
                    lines.append("%s | conforms to %s" % (path, protocol))
        if not external:
            lines.append("%s | %s" % (path, clean(fragments.get(child.get("usr"), "")) or rebuilt(child)))
        walk(child, path)


with open(sdk_path) as f:
    walk(json.load(f)["ABIRoot"], "")
for line in sorted(lines):
    print(line)
