"""Print the code-shape numbers of the notebooks and the library: export cell sizes, definitions per cell, long lines,
`;`-joined statements, imports inside functions and import cycles between modules.

    python tests/code_metrics.py           # print the numbers
    python tests/code_metrics.py --check   # also exit 1 when a target is missed (see TARGETS)
"""
import argparse, ast, json, statistics, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINE = 120
TARGETS = dict(median_export_cell=15, import_cycles=0, joined_statements=0)   # what --check enforces


def code_cells(nb_path: Path) -> list[str]:
    "Sources of the code cells of one notebook."
    nb = json.loads(nb_path.read_text())
    return [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']


def parse(src: str):
    "The AST of a cell, ignoring IPython magics and shell lines (None if it still does not parse)."
    lines = [('#' + ln) if ln.lstrip().startswith(('%', '!')) else ln for ln in src.split('\n')]
    try:
        return ast.parse('\n'.join(lines))
    except SyntaxError:
        return None


def n_definitions(tree) -> int:
    "Top-level functions and classes in a cell."
    return sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in tree.body)


def joined_statements(tree) -> int:
    "Statements that start on the line where the statement before them (in the same block) ends: `a; b`."
    n = 0
    for node in ast.walk(tree):
        for field in ('body', 'orelse', 'finalbody'):
            block = getattr(node, field, None)
            if isinstance(block, list):
                n += sum(b.lineno == a.end_lineno for a, b in zip(block, block[1:]) if isinstance(a, ast.stmt))
    return n


def nested_imports(tree, src: str) -> int:
    "Imports inside functions without a comment on their line saying why (module-level imports are the rule)."
    lines = src.split('\n')
    return sum(isinstance(inner, (ast.Import, ast.ImportFrom)) and '#' not in lines[inner.lineno - 1]
               for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
               for inner in ast.walk(node))


def import_graph(lib: Path) -> dict[str, set[str]]:
    "Module -> the package modules it imports (anywhere in the file, function bodies included)."
    mods = {p.stem for p in lib.glob('*.py') if not p.stem.startswith('_')}
    graph = {}
    for m in mods:
        deps = set()
        for node in ast.walk(ast.parse((lib / f'{m}.py').read_text())):
            if isinstance(node, ast.ImportFrom):
                name = (node.module or '').removeprefix(lib.name + '.') if node.level == 0 else (node.module or '')
                if name in mods: deps.add(name)
            elif isinstance(node, ast.Import):
                deps |= {a.name.removeprefix(lib.name + '.') for a in node.names} & mods
        graph[m] = deps - {m}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    "Strongly connected components with more than one module (Tarjan)."
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = i[0]
        i[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in sorted(graph):
        if v not in index: visit(v)
    return out


def measure() -> dict:
    export_sizes, defs, long_lines, joined, nested, big_not_class = [], [], 0, 0, 0, 0
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for src in code_cells(nb):
            long_lines += sum(len(ln) > MAX_LINE for ln in src.split('\n'))
            tree = parse(src)
            if tree is None: continue
            joined += joined_statements(tree)
            if src.lstrip().startswith('#| export'):
                export_sizes.append(len(src.strip().split('\n')) - 1)
                defs.append(n_definitions(tree))
                one_class = [type(n) for n in tree.body] == [ast.ClassDef]
                big_not_class += export_sizes[-1] > 40 and not one_class
                nested += nested_imports(tree, src)
    cyc = cycles(import_graph(ROOT / 'trans3dhead'))
    return dict(export_cells=len(export_sizes), median_export_cell=statistics.median(export_sizes),
                export_cells_over_40=sum(s > 40 for s in export_sizes),
                export_cells_over_40_not_one_class=big_not_class, max_export_cell=max(export_sizes),
                max_definitions_per_cell=max(defs), long_lines=long_lines, joined_statements=joined,
                imports_in_functions_without_reason=nested, import_cycles=len(cyc), cycles=cyc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='exit 1 when a number misses its target')
    args = ap.parse_args()
    m = measure()
    for k, v in m.items(): print(f'{k:36} {v}')
    missed = [k for k, t in TARGETS.items() if m[k] > t]
    if args.check and missed: sys.exit(f'code metrics: targets missed: {", ".join(missed)}')


if __name__ == '__main__': main()
