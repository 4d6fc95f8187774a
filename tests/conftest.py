"""Fixtures the integration tests share, each built once per test session: a tiny FLAME folder and its layer, an
untrained tiny model, a tiny DAD-3DHeads-format data set, the generated default head, and the console scripts as
small files that run this checkout. Tests must not write into a shared fixture's folder (copy it first)."""
from configparser import ConfigParser
from pathlib import Path
import pytest
from trans3dhead.data import get_flame
from trans3dhead.default_head import default_head_dir
from trans3dhead.flame import FlameLayer
from trans3dhead.testing import make_dad_fixture, make_tiny_flame, tiny_model_dir

ROOT = Path(__file__).resolve().parents[1]


def console_entry(name: str) -> tuple[str, str]:
    "(module, function) of console script `name` as settings.ini declares it."
    cfg = ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini', encoding='utf-8')
    entries = dict(e.split('=') for e in cfg['DEFAULT']['console_scripts'].split())
    module, func = entries[name].split(':')
    return module, func


@pytest.fixture(scope='session')
def console_script():
    """`write(path, name, before='', after='')` writes at `path` a Python file that runs console script `name`
    (settings.ini's entry point) from this checkout, as the installed script does, with the code `before` and `after`
    around the call: `[sys.executable, path, *args]` runs it. -> path"""
    def write(path, name: str, before: str = '', after: str = '') -> Path:
        module, func = console_entry(name)
        path = Path(path)
        path.write_text(f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n{before}\nfrom {module} import {func}\n"
                        f"{func}()\n{after}\n")
        return path
    return write


@pytest.fixture(scope='session')
def tiny_flame_dir(tmp_path_factory) -> Path:
    "A tiny model in FLAME's file format (`make_tiny_flame`, 642 vertices)."
    return make_tiny_flame(tmp_path_factory.mktemp('flame') / 'tiny')


@pytest.fixture(scope='session')
def tiny_flame(tiny_flame_dir):
    "The FLAME layer of `tiny_flame_dir`."
    return get_flame(tiny_flame_dir)


@pytest.fixture(scope='session')
def tiny_model(tmp_path_factory, tiny_flame_dir) -> Path:
    "An untrained tiny Trans3DHead model folder (`tiny_model_dir`: paper preset, ResNet-18, seed 0) on the tiny head."
    return tiny_model_dir(tmp_path_factory.mktemp('model') / 'tiny', tiny_flame_dir)


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory, tiny_flame) -> Path:
    "A DAD-3DHeads-format folder (`make_dad_fixture`) of the tiny head: 4 training and 2 validation items."
    return make_dad_fixture(tmp_path_factory.mktemp('dad') / 'data', tiny_flame, n_train=4, n_val=2, n_test=0)


@pytest.fixture(scope='session')
def default_flame_dir() -> Path:
    "The generated default head's FLAME folder (built into the cache on first use)."
    return Path(default_head_dir())


@pytest.fixture(scope='session')
def default_flame(default_flame_dir):
    "The FLAME layer of the default head."
    return FlameLayer(default_flame_dir)
