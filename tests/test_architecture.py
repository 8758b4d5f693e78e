"""Layering of the package: no import cycles among its modules (imports inside functions
counted too), only the command line imports the command line, and meshes know
no materials."""
import ast

from tests.conftest import ROOT

PACKAGE = ROOT / "fem_assb"


def _graph() -> dict[str, set[str]]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    graph = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fem_assb"):
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in mods]
                targets = subs if len(subs) == len(node.names) else [node.module, *subs]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("fem_assb")]
            else:
                continue
            graph[m] |= {t for t in targets if t in mods and t != m}
    return graph


def test_the_graph_sees_imports_inside_functions():
    g = _graph()
    assert "fem_assb.electrochem.system" in g["fem_assb.electrochem.newton"]
    assert "fem_assb.electrochem.simulation" in g["fem_assb.api"]  # imported inside run()


def test_no_import_cycles():
    g = _graph()
    state, cycles = {}, []

    def visit(m, path):
        state[m] = "open"
        for d in sorted(g[m]):
            if state.get(d) == "open":
                cycles.append(path[path.index(d):] + [d])
            elif d not in state:
                visit(d, path + [d])
        state[m] = "done"

    for m in sorted(g):
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_only_the_command_line_imports_it():
    entry = {"fem_assb.__main__"}
    bad = {m: sorted(d for d in deps if d.startswith("fem_assb.cli"))
           for m, deps in _graph().items() if not m.startswith("fem_assb.cli") and m not in entry}
    assert not {m: d for m, d in bad.items() if d}


def test_meshes_know_phases_not_materials():
    """mesh/ turns structures into tagged meshes; which material fills a phase is for the models."""
    bad = {m: sorted(d for d in deps if d.startswith("fem_assb.materials"))
           for m, deps in _graph().items() if m.startswith("fem_assb.mesh")}
    assert not {m: d for m, d in bad.items() if d}


def test_test_shards_split_the_selection_once():
    """`--shard I/N` (tests/run-suite runs one per core): the shards together select every test
    exactly once; a bad value is a usage error."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    def selected(*args):
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider",
                            "tests/test_materials.py", *args], cwd=ROOT, capture_output=True, text=True)
        return r.returncode, [line for line in r.stdout.splitlines() if "::" in line]

    _, everything = selected()
    parts = [selected("--shard", f"{i}/3")[1] for i in range(3)]
    assert len(everything) > 3 and sorted(sum(parts, [])) == sorted(everything)
    assert all(parts) and len(set(sum(parts, []))) == len(everything)
    code, _ = selected("--shard", "3/3")
    assert code != 0
