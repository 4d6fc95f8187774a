"""The two console scripts end to end: `trans3dhead_export` writes a model folder's model.onnx, and
`trans3dhead_predict --runtime onnx` then gives the torch runtime's predictions, on images and on a video."""
import json, subprocess, sys
import numpy as np, pytest

from trans3dhead.testing import tiny_model_dir

@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_flame_dir, tiny_data, console_script):
    tmp = tmp_path_factory.mktemp('export')
    mdir = tiny_model_dir(tmp / 'model', tiny_flame_dir, crop_size=96, d_model=64)
    console_script(tmp / 'export.py', 'trans3dhead_export')
    console_script(tmp / 'predict.py', 'trans3dhead_predict')
    return tmp, tiny_flame_dir, tiny_data, mdir

def run(tmp, script, *args):
    cmd = [sys.executable, str(tmp / script), *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)

def test_export_then_predict_onnx(setup):
    tmp, fdir, root, mdir = setup
    r = run(tmp, 'export.py', mdir, mdir / 'model.onnx', '--flame_dir', fdir)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'landmarks' in r.stdout and (mdir / 'model.onnx').is_file()
    folder = root / 'val' / 'images'
    outs = {}
    for rt in ('torch', 'onnx'):
        outs[rt] = tmp / f'out_{rt}'
        r = run(tmp, 'predict.py', folder, '--model', mdir, '--flame_dir', fdir, '--out', outs[rt], '--no_draw',
                '--runtime', rt)
        assert r.returncode == 0, r.stderr[-3000:]
    files = sorted(p.name for p in outs['torch'].glob('*.json'))
    assert files and files == sorted(p.name for p in outs['onnx'].glob('*.json'))
    for f in files:
        a, b = (json.loads((outs[rt] / f).read_text())[0] for rt in ('torch', 'onnx'))
        # the JSON rounds to 1e-3 px: equal within one rounding step
        assert np.abs(np.array(a['landmarks']) - np.array(b['landmarks'])).max() <= 1.001e-3
        euler = [np.array(x['euler_yaw_pitch_roll_deg']) for x in (a, b)]
        assert np.abs(euler[0] - euler[1]).max() <= 1.001e-3

def test_video_onnx(setup, tmp_path):
    from trans3dhead.data import load_image
    from trans3dhead.video import write_video
    from trans3dhead.export import export_onnx
    tmp, fdir, root, mdir = setup
    export_onnx(mdir, tmp_path / 'head.onnx', flame_dir=fdir)
    img = np.asarray(load_image(sorted((root / 'val' / 'images').iterdir())[0]))
    clip = write_video(tmp_path / 'clip.mp4', [img] * 3, fps=10)
    for rt, model in (('torch', mdir), ('onnx', tmp_path / 'head.onnx')):
        r = run(tmp, 'predict.py', clip, '--model', model, '--flame_dir', fdir, '--out', tmp_path / rt, '--no_draw',
                '--runtime', rt)
        assert r.returncode == 0, r.stderr[-3000:]
    a, b = (json.loads((tmp_path / rt / 'clip.json').read_text())['frames'] for rt in ('torch', 'onnx'))
    assert len(a) == len(b) == 3
    for fa, fb in zip(a, b):   # the JSON rounds to 1e-3 px: equal within one rounding step
        assert np.abs(np.array(fa['landmarks']) - np.array(fb['landmarks'])).max() <= 1.001e-3

def test_cli_errors(setup, tmp_path):
    tmp, fdir, root, mdir = setup
    r = run(tmp, 'export.py', tmp_path / 'no_model', tmp_path / 'x.onnx', '--flame_dir', fdir)
    assert r.returncode == 2 and 'no such model' in r.stderr and not (tmp_path / 'x.onnx').exists()
    r = run(tmp, 'predict.py', root / 'val' / 'images', '--model', tmp_path, '--flame_dir', fdir, '--runtime', 'onnx')
    assert r.returncode == 2 and 'trans3dhead_export' in r.stderr
    r = run(tmp, 'export.py', '--help')
    assert r.returncode == 0 and '--opset' in r.stdout

@pytest.mark.parametrize('mesh', [True, False])
def test_lean_export_parity(tmp_path, mesh):
    "The lean preset on the FLAME folder found (default head) exports and matches torch; mesh=False skips the mesh."
    import torch
    from trans3dhead.model import preset, build_model
    from trans3dhead.export import export_onnx, onnx_parity, onnx_session
    torch.manual_seed(0)
    m = build_model(preset('lean', pretrained=False, dropout=0.)).eval()
    p = export_onnx(m, tmp_path / 'lean.onnx', mesh=mesh)
    d = onnx_parity(m, p, torch.randn(3, 3, 128, 128))
    assert max(d.values()) <= 1e-3, d
    names = [o.name for o in onnx_session(p).get_outputs()]
    assert names == ['landmarks', 'params', 'mesh_landmarks'] + ['vertices'] * mesh
    assert p.stat().st_size < (16 if mesh else 8) * 2**20
