"""Every `from trans3dhead.X import name` in the tests and benchmark scripts names something X still defines: a moved
name fails here, not in a benchmark run months later."""
import ast, importlib
from pathlib import Path

TESTS = Path(__file__).resolve().parent

def test_names_imported_from_the_package_exist():
    missing = []
    for f in sorted(TESTS.glob('*.py')) + sorted((TESTS / 'benchmarks').glob('*.py')):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('trans3dhead'):
                mod = importlib.import_module(node.module)
                missing += [f'{f.name}: {node.module}.{a.name}' for a in node.names if not hasattr(mod, a.name)]
    assert not missing, missing
