"""`trans3dhead_eval --aflw2000 DIR --model M`: the paper's Table 2 printed for an untrained tiny model on a generated
AFLW2000-3D folder, with the ±99° filter dropping a sample; bad folders and models are one clear line and exit 2."""
import os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from trans3dhead.data import AFLW2000
from trans3dhead.aflw2000 import aflw2000_predictions
from trans3dhead.metrics import euler_mae
from trans3dhead.checkpoint import load_model
from trans3dhead.testing import fixture_template, make_aflw_fixture

ROOT = Path(__file__).resolve().parents[1]
POSES = [(0, 0, 0), (5, 20, 0), (0, 45, 5), (-10, -70, 0), (0, 120, 0), (100, 10, 0)]   # (pitch, yaw, roll) deg


def run_eval(*args):
    "Run the console script's module in a fresh interpreter that imports this checkout."
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, '-m', 'trans3dhead.evaluate', *map(str, args)], capture_output=True,
                          text=True, timeout=600, env=env, cwd=ROOT)


@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_flame_dir, tiny_flame, tiny_model):
    tmp = tmp_path_factory.mktemp('aflw_eval')
    L68 = tiny_flame.landmarks68(torch.as_tensor(fixture_template(tiny_flame), dtype=torch.float32)[None])[0]
    return tmp, tiny_flame_dir, make_aflw_fixture(tmp / 'aflw', L68.double().numpy(), POSES), tiny_model


def table_after(lines, title):
    "(header words, rows as word lists) of the table printed under the line `title`."
    i = lines.index(title)
    end = next((j for j in range(i + 1, len(lines)) if not lines[j].strip()), len(lines))
    return lines[i + 1].split(), [ln.split() for ln in lines[i + 2:end]]


def test_table2(setup):
    tmp, fdir, aflw, mdir = setup
    r = run_eval('--aflw2000', aflw, '--model', mdir, '--flame_dir', fdir, '--name', 'tiny')
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    # the filter: yaw 120 and pitch 100 are beyond ±99°, and are named
    assert lines[0].startswith('AFLW2000-3D: 4 samples evaluated, 2 dropped') and lines[0].endswith(
        'image00004, image00005'), lines[0]
    head, rows = table_after(lines, 'Table 2: head pose, MAE in degrees')
    assert head == ['Method', 'MAE↓', 'Pitch↓', 'Roll↓', 'Yaw↓'] and len(rows) == 1 and rows[0][0] == 'tiny'
    mae, pitch, roll, yaw = map(float, rows[0][1:])
    assert abs(mae - (pitch + roll + yaw) / 3) < 0.01
    # the same numbers in process, on the same four samples
    ds = AFLW2000(aflw)
    p = aflw2000_predictions(load_model(mdir, fdir), ds)
    e = euler_mae(p['euler_pred'], p['euler_gt'])
    np.testing.assert_allclose([mae, pitch, roll, yaw], [e['mean'], e['pitch'], e['roll'], e['yaw']], atol=0.006)
    # without the filter the dropped samples would count: the printed numbers are not those
    everything = AFLW2000(aflw, max_angle=None)
    assert len(everything) == 6
    pa = aflw2000_predictions(load_model(mdir, fdir), everything)
    assert abs(euler_mae(pa['euler_pred'], pa['euler_gt'])['mean'] - mae) > 0.01
    head, rows = table_after(lines, 'NME (%) of the 68 landmarks by |yaw| (degrees)')
    assert head == ['Method', '[0,30]', '(30,60]', '(60,90]', 'Mean', 'All']
    assert rows[0][0] == 'tiny' and all(np.isfinite(float(v)) and float(v) > 0 for v in rows[0][1:])
    assert rows[1] == ['n', '2', '1', '1', '4']


def test_bad_input(setup):
    tmp, fdir, aflw, mdir = setup
    r = run_eval('--aflw2000', tmp / 'nope', '--model', mdir, '--flame_dir', fdir)
    assert r.returncode == 2 and 'nope: not a folder' in r.stderr and 'Traceback' not in r.stderr
    (tmp / 'empty').mkdir()
    r = run_eval('--aflw2000', tmp / 'empty', '--model', mdir, '--flame_dir', fdir)
    assert r.returncode == 2 and 'empty: no AFLW2000-3D images' in r.stderr
    r = run_eval('--aflw2000', aflw, '--model', tmp / 'no_model', '--flame_dir', fdir)
    assert r.returncode == 2 and 'no_model' in r.stderr and 'Traceback' not in r.stderr
    r = run_eval('--aflw2000', aflw)
    assert r.returncode == 2 and '--model' in r.stderr
