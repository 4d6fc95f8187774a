"""Print the code-shape numbers of the notebooks and the library: export cell sizes, definitions per cell, long lines,
`;`-joined statements, imports inside functions, public definitions followed directly by another export cell (no
example or test between: `bare`), small export cells left in runs (closely related small helpers belong in one cell,
as fastai's notebooks group them) and import cycles between modules.

    python tests/code_metrics.py           # print the numbers
    python tests/code_metrics.py --check   # also exit 1 when a target is missed (see TARGETS)
    python tests/code_metrics.py --by-notebook   # also one row of numbers per notebook
"""
import argparse, ast, json, statistics, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINE = 120
SMALL = 8         # a definition or export cell of at most this many lines is small
TARGETS = dict(median_export_cell=15, import_cycles=0, joined_statements=0,   # what --check enforces, over the repo
               imports_in_functions_without_reason=0, export_cells_over_40_not_one_class=0, long_lines=0,
               library_long_lines=0, small_cells_in_runs=0)
# ... and in every notebook (one definition per export cell unless all of the cell's definitions are small, none over
# 40 lines unless it is one class, no line over 120 characters).
NOTEBOOK_TARGETS = dict(export_cells_over_40_not_one_class=0, max_definitions_per_cell=1, long_lines=0,
                        imports_in_functions_without_reason=0)


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


def definitions(tree) -> list:
    "Top-level functions and classes in a cell."
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def n_definitions(tree) -> int:
    "Definitions in a cell, counted as one when all of them are small (a group of closely related small helpers)."
    defs = definitions(tree)
    return 1 if defs and all(n.end_lineno - n.lineno + 1 <= SMALL for n in defs) else len(defs)


def only_imports(tree) -> bool:
    "A cell of imports (and nothing else)."
    return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)


def small_in_runs(small: list) -> int:
    """Small export cells in runs of three or more. `small`: per cell, True (small export cell), False (other export
    cell or markdown: ends a run) or None (an example or test cell: does not end a run)."""
    n = run = 0
    for x in small + [False]:
        if x: run += 1
        elif x is False:
            n, run = n + (run if run >= 3 else 0), 0
    return n


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


def measure_notebook(nb: Path) -> dict:
    "The code-shape numbers of one notebook (export cell sizes are a list, summarised by `summarise`)."
    m = dict(export_sizes=[], defs=[0], long_lines=0, joined_statements=0, imports_in_functions_without_reason=0,
             export_cells_over_40_not_one_class=0, public_definitions_without_example=0)
    cells, small = json.loads(nb.read_text())['cells'], []
    for i, cell in enumerate(cells):
        src = ''.join(cell['source'])
        for ln in src.split('\n'):                      # a markdown table row cannot wrap
            m['long_lines'] += len(ln) > MAX_LINE and not (cell['cell_type'] == 'markdown' and ln.startswith('|'))
        small.append(False if cell['cell_type'] != 'code' else None)
        if cell['cell_type'] != 'code': continue
        tree = parse(src)
        if tree is None: continue
        m['joined_statements'] += joined_statements(tree)
        if src.lstrip().startswith('#| export'):
            size = len(src.strip().split('\n')) - 1
            small[-1] = size <= SMALL and not only_imports(tree)
            m['export_sizes'].append(size)
            m['defs'].append(n_definitions(tree))
            one_class = [type(n) for n in tree.body] == [ast.ClassDef]
            m['export_cells_over_40_not_one_class'] += size > 40 and not one_class
            m['imports_in_functions_without_reason'] += nested_imports(tree, src)
            nxt = ''.join(cells[i + 1]['source']).lstrip() if i + 1 < len(cells) else '#| export'
            public = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name[0] != '_']
            m['public_definitions_without_example'] += bool(public) and nxt.startswith('#| export')
    m['small_cells_in_runs'] = small_in_runs(small)
    return m


def summarise(ms: list[dict]) -> dict:
    "Totals over notebooks: sizes pooled, counts summed, maxima taken."
    sizes = [s for m in ms for s in m['export_sizes']]
    return dict(export_cells=len(sizes), median_export_cell=statistics.median(sizes) if sizes else 0,
                export_cells_over_40=sum(s > 40 for s in sizes),
                export_cells_over_40_not_one_class=sum(m['export_cells_over_40_not_one_class'] for m in ms),
                max_export_cell=max(sizes, default=0), max_definitions_per_cell=max(d for m in ms for d in m['defs']),
                long_lines=sum(m['long_lines'] for m in ms),
                joined_statements=sum(m['joined_statements'] for m in ms),
                imports_in_functions_without_reason=sum(m['imports_in_functions_without_reason'] for m in ms),
                public_definitions_without_example=sum(m['public_definitions_without_example'] for m in ms),
                small_cells_in_runs=sum(m['small_cells_in_runs'] for m in ms))


def library_long_lines(lib: Path) -> int:
    "Lines over MAX_LINE in the exported library, except the `__all__` lists nbdev generates (they reach 130)."
    n = 0
    for p in lib.glob('*.py'):
        if p.stem.startswith('_'): continue
        in_all = False
        for ln in p.read_text().split('\n'):
            in_all = ln.startswith('__all__ = [') or (in_all and ln.startswith(' '))
            n += len(ln) > MAX_LINE and not in_all
    return n


def measure() -> dict:
    "The numbers over all notebooks, plus long lines in the library and import cycles between its modules."
    m = summarise([measure_notebook(nb) for nb in sorted((ROOT / 'nbs').glob('*.ipynb'))])
    m['library_long_lines'] = library_long_lines(ROOT / 'trans3dhead')
    cyc = cycles(import_graph(ROOT / 'trans3dhead'))
    return m | dict(import_cycles=len(cyc), cycles=cyc)


BY_NB_COLS = ('export_cells', 'median_export_cell', 'export_cells_over_40_not_one_class', 'max_export_cell',
              'max_definitions_per_cell', 'long_lines', 'imports_in_functions_without_reason',
              'public_definitions_without_example', 'small_cells_in_runs')


def print_by_notebook():
    "One row per notebook with the numbers that are counted per cell."
    short = ('cells', 'median', 'over40', 'max', 'defs', 'long', 'nested', 'bare', 'runs')
    print(f'{"notebook":26}' + ''.join(f'{h:>8}' for h in short))
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        m = summarise([measure_notebook(nb)])
        print(f'{nb.stem:26}' + ''.join(f'{m[k]:>8g}' for k in BY_NB_COLS))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--check', action='store_true', help='exit 1 when a number misses its target')
    ap.add_argument('--by-notebook', action='store_true', help='also print the numbers of each notebook')
    args = ap.parse_args()
    if args.by_notebook: print_by_notebook()
    m = measure()
    for k, v in m.items(): print(f'{k:36} {v}')
    missed = [k for k, t in TARGETS.items() if m[k] > t] + notebooks_missing()
    if args.check and missed: sys.exit(f'code metrics: targets missed: {", ".join(missed)}')


def notebooks_missing() -> list[str]:
    "`notebook: number` for each notebook that misses a NOTEBOOK_TARGETS target."
    out = []
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        m = summarise([measure_notebook(nb)])
        out += [f'{nb.stem}: {k}={m[k]}' for k, t in NOTEBOOK_TARGETS.items() if m[k] > t]
    return out


if __name__ == '__main__': main()
