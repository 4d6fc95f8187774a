"""The tested set of packages: `constraints.txt` (exact versions, read by `pip install -c`) and the README's
"tested with" line, both made from one environment in which the whole suite passed.

    python tests/lock.py freeze    # constraints.txt from this environment's installed distributions
    python tests/lock.py readme    # the "tested with" line in nbs/index.ipynb and README.md, from constraints.txt
    python tests/lock.py versions  # print the installed versions of the key packages
    python tests/lock.py check     # exit 1 when an installed package differs from constraints.txt

torch is locked with `===` (exact string match): PyPI's build runs on CPU and GPU alike, while a local `+cpu` build
that a machine may offer through `--find-links` has no matching torchvision on PyPI, and `==` would accept it.
"""
import json, re, subprocess, sys, textwrap
from importlib import metadata
from pathlib import Path

from trans3dhead.files import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / 'constraints.txt'
KEY = ['torch', 'torchvision', 'fastai', 'fastcore', 'fasttransform', 'plum-dispatch', 'nbdev', 'execnb', 'smplx',
       'numpy', 'moderngl']
EXACT_STRING = {'torch'}
HEADER = ('# The exact set the test suite passed with (made by `python tests/lock.py freeze`; do not edit by hand).\n'
          '# Both README commands install with `pip install -c constraints.txt`, so a new release cannot change it.\n')

def canonical(name: str) -> str: return re.sub(r'[-_.]+', '-', name).lower()

def installed() -> dict:
    "{canonical name: version} of every distribution in this environment, except this package and pip."
    dists = {canonical(d.metadata['Name']): d.version for d in metadata.distributions()}
    return {k: v for k, v in sorted(dists.items()) if k not in ('trans3dhead', 'pip')}

def read_lock(path: Path = LOCK) -> dict:
    "{canonical name: version} from a constraints file of `name==version` / `name===version` lines."
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split('#')[0].strip()
        if not line: continue
        m = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)\s*={2,3}\s*(\S+)', line)
        if not m: sys.exit(f'{path}: cannot read line {line!r}; expected name==version')
        pins[canonical(m[1])] = m[2]
    return pins

def freeze():
    lines = [f"{name}{'===' if name in EXACT_STRING else '=='}{version}" for name, version in installed().items()]
    py = '.'.join(map(str, sys.version_info[:2]))
    atomic_write_text(LOCK, HEADER + f'# python {py}\n' + '\n'.join(lines) + '\n')
    print(f'{LOCK.name}: {len(lines)} packages')

def lock_python(path: Path = LOCK) -> str:
    "The Python version the lock was made with (its `# python X.Y` line)."
    m = re.search(r'^# python (\S+)$', path.read_text(), re.M)
    if not m: sys.exit(f'{path}: no "# python X.Y" line; remake it with `python tests/lock.py freeze`')
    return m[1]

def tested_with(pins: dict) -> str:
    "A sentence naming Python and the key packages' locked versions, wrapped at 120 characters."
    text = f"*Tested with Python {lock_python()}, " + ', '.join(f'{k} {pins[k]}' for k in KEY if k in pins)
    return textwrap.fill(text + " (`constraints.txt`).*", 120, break_on_hyphens=False)

TESTED_RE = re.compile(r'^\*Tested with Python .*?\(`constraints\.txt`\)\.\*$', re.M | re.S)

def readme():
    "Replace the tested-with line in nbs/index.ipynb, then regenerate README.md from it."
    line = tested_with(read_lock())
    nb_path = ROOT / 'nbs' / 'index.ipynb'
    nb = json.loads(nb_path.read_text())
    hits = 0
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown' and TESTED_RE.search(src):
            cell['source'] = TESTED_RE.sub(line, src).splitlines(keepends=True)
            hits += 1
    if hits != 1: sys.exit(f'{nb_path}: expected one "*Tested with Python …*" line, found {hits}')
    atomic_write_text(nb_path, json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    subprocess.run([sys.executable, str(ROOT / 'tests' / 'docs_check.py'), '--readme'], check=True)
    print(line)

def mismatches() -> list:
    "Locked packages installed at another version: [(name, locked, installed)]."
    have = installed()
    return [(k, v, have[k]) for k, v in read_lock().items() if k in have and have[k] != v]

def versions():
    have = installed()
    print('tested set:', ', '.join(f'{k} {have.get(k, "MISSING")}' for k in KEY), f'(Python {sys.version.split()[0]})')

def check():
    bad = mismatches()
    for name, locked, got in bad: print(f'{name}: installed {got}, constraints.txt has {locked} (untested)')
    sys.exit(1 if bad else 0)

if __name__ == '__main__':
    cmds = dict(freeze=freeze, readme=readme, versions=versions, check=check)
    if len(sys.argv) != 2 or sys.argv[1] not in cmds: sys.exit(__doc__)
    cmds[sys.argv[1]]()
