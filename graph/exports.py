"""Report exports (JSON, CSV of opportunities, GraphML, GEXF, PNG) and the stored graph format.

Pure: functions of a report dict and/or a graph. GraphML and GEXF hold scalar attributes
only, so lists and dicts are written as JSON strings and missing values are left out.
The PNG is drawn with matplotlib's Agg backend (no display needed).

matplotlib is loaded with this module, in the process's main thread, not at the first
picture: its first load on a machine builds a font cache by running ``fc-list``, and the
picture is drawn off the gevent loop in a native thread (``core.cooperative.off_the_loop``),
where gevent's patched ``subprocess`` cannot start a child. Loaded there, the first PNG
export of a fresh deployment failed (and the next ones found the module half loaded).

One picture is drawn at a time, behind a native lock: matplotlib is not thread-safe, and every
figure's drawing takes ``Figure._render_lock``, made at import in a gevent worker and so gevent's,
on which two native threads drawing at once hung (a picture requested twice at once never came).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile

import matplotlib
import networkx as nx
from lxml import etree

from core.cooperative import native_lock

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402 (after choosing the backend)
from matplotlib.lines import Line2D  # noqa: E402

#: Above this many nodes the picture shows a subset (see :func:`drawn_subset`).
PNG_MAX_NODES = 1000
SEGMENT_COLOURS = {"heavy": "#1f4e9c", "medium": "#4f9bd9", "light": "#9cd3a8", "lapsed": "#c8c8c8",
                   "nonuser": "#f2b134"}
OPPORTUNITY_COLOUR = "#d62728"
CSV_FIELDS = ("rank", "node", "label", "external_id", "kind", "segment", "score", "reasons", "suggested_action")


def report_json(report: dict) -> bytes:
    return json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8")


def opportunities_csv(report: dict) -> str:
    """One row per opportunity: rank, key, label, external id (the brand's own, staff find the person by it),
    kind, segment, score, reasons ("; "), action."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("rank", "key", "label", "external_id", "kind", "segment", "score", "reasons", "suggested_action"))
    for o in report.get("opportunities", []):
        writer.writerow((o["rank"], o["node"], csv_safe(o.get("label")), csv_safe(o.get("external_id")), o.get("kind"),
                         o.get("segment"),
                         f"{o['score']:.4f}", csv_safe("; ".join(o.get("reasons", []))),
                         csv_safe(o.get("suggested_action"))))
    return out.getvalue()


def csv_safe(text) -> str:
    """Neutralise spreadsheet formulas (a label starting with = + - @ is shown, not run)."""
    text = "" if text is None else str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _scalar(value):
    if isinstance(value, (list, tuple, dict, set)):
        return json.dumps(sorted(value) if isinstance(value, set) else value, ensure_ascii=False)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _scalar_attributes(attributes: dict) -> None:
    for key in [k for k, x in attributes.items() if x is None]:
        del attributes[key]
    for key, value in attributes.items():
        attributes[key] = _scalar(value)


def make_scalar(G) -> nx.Graph:
    """``G`` itself, its attributes made str/int/float/bool (None values dropped) in place: the
    exports' graphs are unpacked for the export alone, so no copy is needed."""
    _scalar_attributes(G.graph)
    for _v, a in G.nodes(data=True):
        _scalar_attributes(a)
    for _u, _v, a in G.edges(data=True):
        _scalar_attributes(a)
    return G


#: An export larger than this goes to a temporary file rather than memory.
SPOOL_BYTES = 8 * 2**20


def graph_graphml(G) -> tempfile.SpooledTemporaryFile:
    """GraphML of ``G`` (made scalar in place), written incrementally (networkx writes with lxml's
    ``xmlfile`` when lxml is installed, as requirements.txt has it) into a spooled file, rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    nx.write_graphml(make_scalar(G), out, encoding="utf-8")
    out.seek(0)
    return out


GEXF_NS = "http://www.gexf.net/1.2draft"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"


def graph_gexf(G) -> tempfile.SpooledTemporaryFile:
    """GEXF of ``G`` (made scalar in place) written into a spooled file (:func:`write_gexf`), rewound."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    write_gexf(G, out)
    out.seek(0)
    return out


def write_gexf(G, out) -> None:
    """GEXF 1.2 of ``G`` (made scalar in place) into the binary file ``out``, written node by node and
    edge by edge through lxml's incremental writer.

    networkx's ``write_gexf`` builds the whole document as an ElementTree first (1.5 GB at 100k
    people); this writes what networkx would, one element at a time, so memory beyond the graph
    holds one node or edge. GEXF declares its attributes before the nodes, so a first pass collects
    each attribute's type over every value it takes (networkx takes the first value's type, which
    an integer CLV of 0 followed by 12.5 would make unreadable): ``boolean``, ``long``, ``double``
    for integers mixed with floats, ``string`` otherwise. The node ``label`` and the edge ``weight``
    are XML attributes of their elements, as in networkx; ``nx.read_gexf`` reads it back."""
    make_scalar(G)
    node_types, edge_types = _gexf_types(a for _v, a in G.nodes(data=True)), _gexf_types(
        a for _u, _v, a in G.edges(data=True))
    node_types.pop("label", None)
    edge_types.pop("weight", None)
    node_ids = {key: str(i) for i, key in enumerate(node_types)}
    edge_ids = {key: str(i) for i, key in enumerate(edge_types, start=len(node_ids))}
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("gexf", {"xmlns": GEXF_NS, "xmlns:xsi": _XSI, "version": "1.2",
                                 "xsi:schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd"}):
            meta = etree.Element("meta")
            etree.SubElement(meta, "creator").text = "Brand community platform (graph.exports)"
            xf.write(meta, "\n")
            mode = "directed" if G.is_directed() else "undirected"
            with xf.element("graph", defaultedgetype=mode, mode="static", name=str(G.graph.get("name", ""))):
                for kind, types, ids in (("node", node_types, node_ids), ("edge", edge_types, edge_ids)):
                    declared = etree.Element("attributes", {"class": kind, "mode": "static"})
                    for key, gexf_type in types.items():
                        etree.SubElement(declared, "attribute", id=ids[key], title=str(key), type=gexf_type)
                    xf.write(declared, "\n")
                with xf.element("nodes"):
                    for v, a in G.nodes(data=True):
                        element = etree.Element("node", id=str(v), label=str(a.get("label", v)))
                        _gexf_values(element, a, node_types, node_ids, skip="label")
                        xf.write(element, "\n")
                with xf.element("edges"):
                    for i, (u, v, a) in enumerate(G.edges(data=True)):
                        element = etree.Element("edge", id=str(i), source=str(u), target=str(v))
                        if "weight" in a:
                            element.set("weight", _gexf_text(a["weight"], "double"))
                        _gexf_values(element, a, edge_types, edge_ids, skip="weight")
                        xf.write(element, "\n")


def _gexf_types(attribute_dicts) -> dict[str, str]:
    """The GEXF type of each attribute over every value it takes, keys in first-seen order."""
    seen: dict[str, set] = {}
    for attributes in attribute_dicts:
        for key, value in attributes.items():
            seen.setdefault(key, set()).add(type(value))
    return {key: _gexf_type(types) for key, types in seen.items()}


def _gexf_type(types: set) -> str:
    if types == {bool}:
        return "boolean"
    if types <= {int}:
        return "long"
    if types <= {int, float}:
        return "double"
    return "string"


def _gexf_text(value, gexf_type: str) -> str:
    if gexf_type == "boolean":
        return "true" if value else "false"
    if gexf_type == "double":
        text = repr(float(value))
        return {"inf": "INF", "-inf": "-INF", "nan": "NaN"}.get(text, text)
    return str(value)


def _gexf_values(element, attributes: dict, types: dict, ids: dict, *, skip: str) -> None:
    values = [(key, value) for key, value in attributes.items() if key != skip]
    if values:
        holder = etree.SubElement(element, "attvalues")
        for key, value in values:
            etree.SubElement(holder, "attvalue", {"for": ids[key], "value": _gexf_text(value, types[key])})


def drawn_subset(G, report: dict, *, max_nodes: int = PNG_MAX_NODES) -> tuple[list, str]:
    """Nodes to draw and a caption saying which: everyone when small, else the top
    opportunities, their neighbours and the highest cores, up to ``max_nodes``."""
    if len(G) <= max_nodes:
        return list(G), f"All {len(G)} people."
    chosen = dict.fromkeys(o["node"] for o in report.get("opportunities", []) if o["node"] in G)
    for v in list(chosen):
        for u in sorted(G[v], key=lambda u: -G[v][u].get("weight", 1.0)):
            if len(chosen) >= max_nodes // 2:
                break
            chosen.setdefault(u)
    by_core = sorted(G.nodes(data="core_number"), key=lambda t: (-(t[1] or 0), str(t[0])))
    for v, _ in by_core:
        if len(chosen) >= max_nodes:
            break
        chosen.setdefault(v)
    return list(chosen), (f"{len(chosen)} of {len(G)} people: the top opportunities, their strongest ties "
                          "and the highest k-cores.")


#: Held while a picture is drawn (see the module's docstring).
_DRAWING = native_lock()


def graph_png(G, report: dict, *, max_nodes: int = PNG_MAX_NODES, seed: int = 0) -> bytes:
    """The graph coloured by segment, opportunities highlighted in red, with a caption."""
    with _DRAWING:
        return _drawn_png(G, report, max_nodes=max_nodes, seed=seed)


def _drawn_png(G, report: dict, *, max_nodes: int, seed: int) -> bytes:
    nodes, caption = drawn_subset(G, report, max_nodes=max_nodes)
    S = G.subgraph(nodes)
    pos = nx.spring_layout(S, seed=seed, iterations=30) if len(S) else {}
    opportunities = {o["node"] for o in report.get("opportunities", [])} & set(S)
    fig = Figure(figsize=(10, 10), dpi=100)
    ax = fig.add_subplot()
    ax.set_axis_off()
    nx.draw_networkx_edges(S, pos, ax=ax, width=0.3, alpha=0.3, edge_color="#888888")
    colours = [SEGMENT_COLOURS.get(S.nodes[v].get("segment"), "#999999") for v in S]
    nx.draw_networkx_nodes(S, pos, ax=ax, node_size=12, node_color=colours, linewidths=0)
    if opportunities:
        nx.draw_networkx_nodes(S, pos, nodelist=sorted(opportunities), ax=ax, node_size=60,
                               node_color=[SEGMENT_COLOURS.get(S.nodes[v].get("segment"), "#999") for v in sorted(opportunities)],
                               edgecolors=OPPORTUNITY_COLOUR, linewidths=1.8)
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=s) for s, c in SEGMENT_COLOURS.items()]
    handles.append(Line2D([], [], marker="o", linestyle="", color="white", markeredgecolor=OPPORTUNITY_COLOUR,
                          markeredgewidth=1.8, label="opportunity"))
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    fig.text(0.02, 0.01, f"Coloured by segment; top opportunities ringed in red. {caption}", fontsize=9)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def pack_graph(G) -> bytes:
    """The graph as gzip'd JSON (the stored form of a report's analysed graph)."""
    data = {"graph": dict(G.graph), "nodes": [[v, a] for v, a in G.nodes(data=True)],
            "edges": [[u, v, a] for u, v, a in G.edges(data=True)]}
    return gzip.compress(json.dumps(data, separators=(",", ":"), default=_scalar).encode("utf-8"), compresslevel=6)


def unpack_graph(blob: bytes) -> nx.Graph:
    data = json.loads(gzip.decompress(blob))
    G = nx.Graph()
    G.graph.update(data["graph"])
    G.add_nodes_from((v, a) for v, a in data["nodes"])
    G.add_edges_from((u, v, a) for u, v, a in data["edges"])
    return G


def without_people(G, keys: set, stakeholder_id=None) -> bool:
    """Remove the people with these node keys (or this stakeholder id) from ``G`` in place."""
    gone = [v for v, a in G.nodes(data=True)
            if v in keys or (stakeholder_id is not None and a.get("stakeholder_id") == stakeholder_id)]
    G.remove_nodes_from(gone)
    return bool(gone)
