"""Render the docs site and check it in headless Chromium.

Build: `nbdev_docs` (quarto) when `quarto` is on PATH. quarto-cli cannot be installed here (its PyPI release is an
sdist that downloads the quarto binary from GitHub at build time), so otherwise the same nbdev-processed notebooks
(`nbdev_proc_nbs`, which expands `show_doc` and drops `#| hide` cells) are turned into HTML pages with nbconvert,
with a sidebar linking every page. Math is typeset by MathJax served from the site itself (the files of the PyPI
package `jupyter-server-mathjax`, MathJax 2.7), so pages render offline. Check: every page is loaded in headless
Chromium; a page fails when it is blank, shows an error (a Python traceback or an error output cell), shows math
as raw `$...$` text, or has more than one top-level heading (markdown written with `# ` prefixes).

    python tests/docs_check.py            # build into _docs/ and check
    python tests/docs_check.py --no-build # check an existing _docs/
    python tests/docs_check.py --readme   # only regenerate README.md from nbs/index.ipynb
"""
import argparse, html, importlib.util, json, os, re, shutil, subprocess, sys, tempfile, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS, PROC = ROOT/'_docs', ROOT/'_proc'
MATHJAX = 'jupyter-server-mathjax==0.2.6'   # MathJax 2.7's files, the MathJax nbconvert's classic template configures
MATHJAX_URL = 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe'
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
    cells = [{'cell_type': 'markdown', 'metadata': {}, 'source': title}]
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
    style = 'position:fixed;top:0;left:0;width:230px;height:100%;overflow:auto;padding:1em;background:#f6f6f6'
    side = f'<nav style="{style}"><b>trans3dhead</b>{sidebar_html(pages)}</nav>'
    if DOCS.exists(): shutil.rmtree(DOCS)
    DOCS.mkdir()
    if (ROOT/'nbs'/'images').is_dir(): shutil.copytree(ROOT/'nbs'/'images', DOCS/'images')
    shutil.copytree(mathjax_dir(), DOCS/'mathjax')
    c = Config({'TagRemovePreprocessor': {'enabled': True, 'remove_input_tags': {'remove_input'}}})
    exporter = HTMLExporter(config=c, template_name='classic', exclude_input_prompt=True, exclude_output_prompt=True,
                            mathjax_url=MATHJAX_URL)
    for p, nb in pages:
        body, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))
        body = body.replace('<body>', f'<body>{side}<div style="margin-left:260px">', 1)
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

def build():
    if shutil.which('quarto'): subprocess.run(['nbdev_docs'], cwd=ROOT, check=True)
    else:
        build_with_nbconvert()
        write_readme()

def chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    sys.exit('docs check: no Chromium found; install the Debian package `chromium` (apt-get install -y chromium)')

def check_page(page: Path, screenshot: Path) -> list[str]:
    "Problems seen when Chromium loads `page` (empty list when it looks fine)."
    with tempfile.TemporaryDirectory() as profile:
        flags = CHROMIUM_FLAGS + [f'--user-data-dir={profile}']
        dom = subprocess.run([chromium(), *flags, '--virtual-time-budget=20000', '--dump-dom', page.as_uri()],
                             capture_output=True, text=True, timeout=120).stdout
        subprocess.run([chromium(), *flags, f'--screenshot={screenshot}', '--window-size=1280,1600', page.as_uri()],
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
    n_h1 = len(re.findall(r'<h1\b', dom))
    if n_h1 > 1:
        problems.append(f'{page.name}: {n_h1} top-level headings (a markdown cell written with `# ` prefixes?)')
    return problems

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-build', action='store_true', help='check the existing _docs/ without building')
    ap.add_argument('--readme', action='store_true', help='only write README.md from nbs/index.ipynb')
    args = ap.parse_args()
    if args.readme: return write_readme()
    if not args.no_build: build()
    numbered = sorted(p for p in DOCS.glob('[0-9]*.html'))
    if not (DOCS/'index.html').exists() or not numbered:
        sys.exit(f'docs check: {DOCS} lacks index.html or notebook pages')
    problems = []
    pages = [DOCS/'index.html'] + numbered
    for page in pages:
        problems += check_page(page, DOCS/f'screenshot-{page.stem}.png')
    if problems: sys.exit('docs check failed:\n  ' + '\n  '.join(problems))
    print(f'docs check: all {len(pages)} pages render in Chromium (math typeset, one title each)')

if __name__ == '__main__': main()
