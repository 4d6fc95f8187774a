"""Render the docs site and check it in headless Chromium.

Build: `nbdev_docs` (quarto) when `quarto` is on PATH. quarto-cli cannot be installed here (its PyPI release is an
sdist that downloads the quarto binary from GitHub at build time), so otherwise the same nbdev-processed notebooks
(`nbdev_proc_nbs`, which expands `show_doc` and drops `#| hide` cells) are turned into HTML pages with nbconvert,
with a sidebar linking every page. Math is typeset by MathJax served from the site itself (the files of the PyPI
package `jupyter-server-mathjax`, MathJax 2.7), so pages render offline. Check: every page is loaded in headless
Chromium; a page fails when it is blank, shows an error (a Python traceback or an error output cell), shows math
as raw `$...$` text, has more than one top-level heading (markdown written with `# ` prefixes), shows a path of the
build machine (the repository's or the home folder's: a path default in a signature), or is wider than a 1024, 1200
or 1440 px window (the page scrolls sideways, or an element reaches past the window's right edge outside a box that
scrolls sideways). The front page must be current: its numbers (stored outputs of `#| echo: false` cells, which
README.md shows) are what the cells compute now, and its picture passes
`tests/benchmarks/make_front_picture.py --check`.

    python tests/docs_check.py            # build into _docs/ and check
    python tests/docs_check.py --no-build # check an existing _docs/
    python tests/docs_check.py --readme   # only re-run nbs/index.ipynb's cells and regenerate README.md from it
"""
import argparse, html, importlib.util, json, os, re, shutil, subprocess, sys, tempfile, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS, PROC = ROOT/'_docs', ROOT/'_proc'
MATHJAX = 'jupyter-server-mathjax==0.2.6'   # MathJax 2.7's files, the MathJax nbconvert's classic template configures
MATHJAX_URL = 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'
WIDTHS = (1024, 1200, 1440)   # every page must fit windows this wide (no sideways scrolling of the page)
# Run in the page after MathJax: the page's scroll width, and every element whose right edge is past the window's
# unless a box between it and <body> scrolls sideways (a wide table or code block inside its own scroll box is fine).
OVERFLOW_PROBE = """<script>
window.addEventListener('load', function () {
  function scrolls(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  }
  function name(el) {
    var s = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && el.className.baseVal === undefined
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
    return s + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  }
  function probe() {
    var W = document.documentElement.clientWidth, found = [], all = document.body.getElementsByTagName('*');
    if (document.scrollingElement.scrollWidth > W)
      found.push('the page is ' + document.scrollingElement.scrollWidth + ' px wide');
    for (var i = 0; i < all.length && found.length < 5; i++) {
      var r = all[i].getBoundingClientRect();
      if (r.width > 0 && r.right > W + 1 && getComputedStyle(all[i]).visibility !== 'hidden' && !scrolls(all[i]))
        found.push(name(all[i]) + ' reaches x = ' + Math.round(r.right) + ' px');
    }
    document.body.setAttribute('data-overflow', JSON.stringify(found));
  }
  if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(probe); else probe();
});
</script>
"""
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync']

def frontmatter(nb: dict) -> dict:
    "The YAML front matter nbdev puts in a raw cell (title, description)."
    import yaml
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'raw' and src.startswith('---'): return yaml.safe_load(src.strip().strip('-')) or {}
    return {}

def for_html(nb: dict) -> dict:
    """A processed notebook made ready for nbconvert: title cell from the front matter, no raw cells, no `#|` lines,
    hidden inputs of `echo: false` cells, no quarto-only link attributes."""
    fm = frontmatter(nb)
    title = f"# {fm.get('title', '')}\n\n> {fm.get('description', '')}"
    cells = [{'cell_type': 'markdown', 'id': 'page-title', 'metadata': {}, 'source': title}]
    for cell in nb['cells']:
        if cell['cell_type'] == 'raw': continue
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'code':
            hide = re.search(r'^#\|\s*echo:\s*false', src, flags=re.M)
            cell['source'] = re.sub(r'^#\|.*\n?', '', src, flags=re.M)
            cell.setdefault('metadata', {})['tags'] = ['remove_input'] if hide else []
            for out in cell.get('outputs', []):
                md = out.get('data', {}).get('text/markdown')
                if md: out['data']['text/markdown'] = re.sub(r'\{target="_blank"[^}]*\}', '', ''.join(md))
        cells.append(cell)
    return {**nb, 'cells': cells}

def mathjax_dir() -> Path:
    "MathJax's static files: from the installed `jupyter_server_mathjax`, else from its wheel (pip download, cached)."
    spec = importlib.util.find_spec('jupyter_server_mathjax')
    if spec is not None: return Path(spec.submodule_search_locations[0]) / 'static'
    cache = Path(os.environ.get('TRANS3DHEAD_CACHE') or Path.home() / '.cache' / 'trans3dhead')
    cache = cache / MATHJAX.replace('==', '-')
    if not (cache / 'MathJax.js').is_file():
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '-q', '-d', d, MATHJAX], check=True)
            with zipfile.ZipFile(next(Path(d).glob('*.whl'))) as z:
                pre = 'jupyter_server_mathjax/static/'
                for name in z.namelist():
                    if name.startswith(pre) and not name.endswith('/'):
                        (cache / name[len(pre):]).parent.mkdir(parents=True, exist_ok=True)
                        (cache / name[len(pre):]).write_bytes(z.read(name))
    return cache

def sidebar_html(pages) -> str:
    "The sidebar of nbs/sidebar.yml (sections in reading order) as HTML lists; pages it does not name go under More."
    import yaml
    titles = {p.name: frontmatter(json.loads(p.read_text())).get('title', p.stem) for p, _ in pages}
    link = lambda name: f'<li><a href="{Path(name).stem}.html">{html.escape(titles[name])}</a></li>'
    def names(items):
        for it in items:
            if isinstance(it, str): yield it
            elif 'auto' in it: yield from sorted(n for n in titles if Path(n).match(it['auto']))
    sections, seen = [], set()
    for it in yaml.safe_load((ROOT/'nbs'/'sidebar.yml').read_text())['website']['sidebar']['contents']:
        title, items = (it['section'], it['contents']) if isinstance(it, dict) and 'section' in it else ('', [it])
        found = [n for n in names(items) if n in titles]
        seen |= set(found)
        if found: sections.append((title, found))
    rest = sorted(set(titles) - seen)
    if rest: sections.append(('More', rest))
    return ''.join(f'<p><b>{html.escape(t)}</b></p>' * bool(t) + f'<ul>{"".join(map(link, ns))}</ul>'
                   for t, ns in sections)

def build_with_nbconvert():
    "HTML pages from `_proc/*.ipynb` with a shared sidebar."
    import nbformat
    # nbconvert's templates are data files of its installation prefix, which a venv with system site-packages lacks
    shares = [str(Path(p) / 'share' / 'jupyter') for p in (sys.prefix, sys.base_prefix)]
    os.environ['JUPYTER_PATH'] = os.pathsep.join(shares + [os.environ.get('JUPYTER_PATH', '')])
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    subprocess.run(['nbdev_proc_nbs'], cwd=ROOT, check=True, capture_output=True)
    nbs = sorted(PROC.glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.stem))
    pages = [(p, for_html(json.loads(p.read_text()))) for p in nbs]
    side = f'<nav class="t3h-sidebar"><b>trans3dhead</b>{sidebar_html(pages)}</nav>'
    if DOCS.exists(): shutil.rmtree(DOCS)
    DOCS.mkdir()
    if (ROOT/'nbs'/'images').is_dir(): shutil.copytree(ROOT/'nbs'/'images', DOCS/'images')
    shutil.copy(ROOT/'nbs'/'styles.css', DOCS/'styles.css')
    shutil.copytree(mathjax_dir(), DOCS/'mathjax')
    c = Config({'TagRemovePreprocessor': {'enabled': True, 'remove_input_tags': {'remove_input'}}})
    exporter = HTMLExporter(config=c, template_name='classic', exclude_input_prompt=True, exclude_output_prompt=True,
                            mathjax_url=MATHJAX_URL)
    for p, nb in pages:
        body, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))
        body = body.replace('</head>', '<link rel="stylesheet" href="styles.css">\n</head>', 1)
        body = body.replace('<body>', f'<body>{side}<div class="t3h-main">', 1)
        body = body.replace('</body>', '</div></body>', 1)
        (DOCS/f'{p.stem}.html').write_text(body)

def write_readme():
    """README.md from nbs/index.ipynb (what `nbdev_readme` does with quarto): markdown cells as they are, code cells
    fenced, and of an `#| echo: false` cell only its stored Markdown output."""
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    parts = []
    for cell in nb['cells']:
        src = ''.join(cell['source']).strip()
        if not src or src.startswith('#| hide'): continue
        if src.startswith('#| echo: false'):
            parts += [''.join(o['data']['text/markdown']).strip() for o in cell.get('outputs', [])
                      if 'text/markdown' in o.get('data', {})]
        else: parts.append(src if cell['cell_type'] == 'markdown' else f'```python\n{src}\n```')
    text = '\n\n'.join(parts) + '\n'
    text = re.sub(r'^> (.+)$', r'*\1*', text, count=1, flags=re.M)          # the summary line
    (ROOT/'README.md').write_text(text.replace('](images/', '](nbs/images/'))

def index_markdown(cells) -> list:
    "The Markdown outputs of each cell, as strings."
    return [[''.join(o['data']['text/markdown']) for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
            for c in cells]

def run_index():
    "nbs/index.ipynb with its code cells run now (in nbs/, as nbdev_test runs them). -> the executed notebook"
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    nb, cwd = read_nb(ROOT/'nbs'/'index.ipynb'), Path.cwd()
    os.chdir(ROOT/'nbs')
    try: CaptureShell().run_all(nb)
    finally: os.chdir(cwd)
    return nb

def refresh_index():
    "Store what nbs/index.ipynb's cells compute now as their outputs (then nbdev_clean it)."
    from execnb.nbio import write_nb
    write_nb(run_index(), ROOT/'nbs'/'index.ipynb')
    subprocess.run(['nbdev_clean', '--fname', str(ROOT/'nbs'/'index.ipynb')], cwd=ROOT, check=True)

def front_page_problems() -> list[str]:
    """The front page's numbers and picture are current: each `#| echo: false` cell of nbs/index.ipynb stores the
    Markdown it computes now (README.md and the page show the stored one), and the picture shows the shipped model
    and today's SynthHeads (`tests/benchmarks/make_front_picture.py --check`)."""
    stored = index_markdown(json.loads((ROOT/'nbs'/'index.ipynb').read_text())['cells'])
    nb = run_index()
    problems = [f'index: the stored output of cell {i} is stale (run: python tests/docs_check.py --readme)'
                for i, (c, old, new) in enumerate(zip(nb.cells, stored, index_markdown(nb.cells)))
                if c.source.startswith('#| echo: false') and old != new]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]))
    r = subprocess.run([sys.executable, str(ROOT/'tests'/'benchmarks'/'make_front_picture.py'), '--check'],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    if r.returncode: problems.append(f"index: {(r.stderr or r.stdout).strip().splitlines()[-1]}")
    return problems

def build():
    if shutil.which('quarto'): subprocess.run(['nbdev_docs'], cwd=ROOT, check=True)
    else:
        build_with_nbconvert()
        write_readme()

def chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    sys.exit('docs check: no Chromium found; install the Debian package `chromium` (apt-get install -y chromium)')

def build_paths() -> list[str]:
    "Paths of the machine the docs are built on, which no page may show: the repository's and the home folder's."
    return [str(ROOT)] + [str(Path.home()) + '/'] * (Path.home() != Path('/'))

def dump_dom(page: Path, width: int) -> str:
    """The DOM of `page` after Chromium, in a window `width` px wide, loaded it and MathJax typeset it, with the
    overflow probe's findings on <body data-overflow>."""
    probe = page.with_name(f'.probe-{page.name}')                  # beside the page: its relative links still work
    probe.write_text(page.read_text().replace('</body>', OVERFLOW_PROBE + '</body>', 1))
    try:
        with tempfile.TemporaryDirectory() as profile:
            flags = CHROMIUM_FLAGS + [f'--user-data-dir={profile}', f'--window-size={width},1800']
            return subprocess.run([chromium(), *flags, '--virtual-time-budget=20000', '--dump-dom', probe.as_uri()],
                                  capture_output=True, text=True, timeout=120).stdout
    finally: probe.unlink()

def overflow(dom: str) -> list[str]:
    "What the overflow probe found in a `dump_dom` DOM (a missing probe result is a finding too)."
    m = re.search(r'<body[^>]*\sdata-overflow="([^"]*)"', dom)
    return json.loads(html.unescape(m.group(1))) if m else ['the overflow probe did not run']

def check_page(page: Path, screenshot: Path) -> list[str]:
    "Problems seen when Chromium loads `page` (empty list when it looks fine)."
    doms = {w: dump_dom(page, w) for w in WIDTHS}
    dom = doms[max(WIDTHS)]
    with tempfile.TemporaryDirectory() as profile:
        flags = CHROMIUM_FLAGS + [f'--user-data-dir={profile}']
        subprocess.run([chromium(), *flags, f'--screenshot={screenshot}', '--window-size=1200,1800', page.as_uri()],
                       capture_output=True, timeout=120)
    text = re.sub(r'<script.*?</script>|<style.*?</style>|<[^>]+>', ' ', dom, flags=re.S)
    problems = []
    if len(text.split()) < 50: problems.append(f'{page.name}: blank page ({len(text.split())} words)')
    if 'Traceback (most recent call last)' in text or 'output_error' in dom:
        problems.append(f'{page.name}: shows an error output')
    if not screenshot.exists() or screenshot.stat().st_size < 5000: problems.append(f'{page.name}: no screenshot')
    prose = re.sub(r'<(script|style|code|pre)\b.*?</\1>|<[^>]+>', ' ', dom, flags=re.S)
    raw = re.findall(r'\$\$?[^$\s][^$]{0,80}?\$', html.unescape(prose))
    if raw: problems.append(f'{page.name}: math shown as raw text (MathJax did not typeset it): {raw[0]!r}')
    for w, d in doms.items():
        problems += [f'{page.name}: wider than a {w} px window: {o}' for o in overflow(d)]
    source = page.read_text()
    problems += [f"{page.name}: shows the build machine's path {p} (a path default in a signature, or a stored output)"
                 for p in build_paths() if p in source]
    n_h1 = len(re.findall(r'<h1\b', dom))
    if n_h1 > 1:
        problems.append(f'{page.name}: {n_h1} top-level headings (a markdown cell written with `# ` prefixes?)')
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-build', action='store_true', help='check the existing _docs/ without building')
    ap.add_argument('--readme', action='store_true',
                    help="only run nbs/index.ipynb's cells, store their outputs and write README.md from it")
    args = ap.parse_args()
    if args.readme:
        refresh_index()
        return write_readme()
    problems = front_page_problems()
    if not args.no_build: build()
    numbered = sorted(p for p in DOCS.glob('[0-9]*.html'))
    if not (DOCS/'index.html').exists() or not numbered:
        sys.exit(f'docs check: {DOCS} lacks index.html or notebook pages')
    pages = [DOCS/'index.html'] + numbered
    for page in pages:
        problems += check_page(page, DOCS/f'screenshot-{page.stem}.png')
    if problems: sys.exit('docs check failed:\n  ' + '\n  '.join(problems))
    print(f'docs check: all {len(pages)} pages render in Chromium (math typeset, one title each, no sideways overflow '
          f'at {" and ".join(map(str, WIDTHS))} px, no build paths) and the front page is current')

if __name__ == '__main__': main()
