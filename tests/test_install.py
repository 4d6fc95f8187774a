"""The installed set is the tested set: constraints.txt, settings.ini's ranges and the README agree."""
from configparser import ConfigParser
import shlex, subprocess, sys

from packaging.requirements import Requirement
import lock

def settings_requirements() -> list:
    cfg = ConfigParser(delimiters=['='])
    cfg.read(lock.ROOT / 'settings.ini', encoding='utf-8')
    d = cfg['DEFAULT']
    return [Requirement(r) for key in d if key.endswith('requirements') for r in shlex.split(d[key])]

def test_installed_versions_are_the_locked_ones():
    assert lock.mismatches() == [], ('installed versions differ from constraints.txt: '
                                     'install with `pip install -c constraints.txt`')

def test_every_requirement_is_locked_inside_its_range():
    pins = lock.read_lock()
    for req in settings_requirements():
        name = lock.canonical(req.name)
        assert name in pins, f'{req.name} is required by settings.ini but not in constraints.txt'
        assert req.specifier.contains(pins[name], prereleases=True), f'{name} {pins[name]} is outside {req}'

def test_key_packages_are_locked_and_torch_exactly():
    pins = lock.read_lock()
    assert set(lock.KEY) <= set(pins)
    assert 'torch===' in lock.LOCK.read_text().replace(' ', '')

def test_readme_states_the_tested_set():
    line = lock.tested_with(lock.read_lock())
    assert line in (lock.ROOT / 'README.md').read_text(), 'README out of date: run `python tests/lock.py readme`'

def test_importing_the_package_prints_no_warnings():
    code = 'import trans3dhead.learner, trans3dhead.inference, trans3dhead.demo, trans3dhead.metrics, trans3dhead.synth'
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=lock.ROOT)
    assert res.returncode == 0 and res.stderr == '', res.stderr
