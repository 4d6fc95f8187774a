"""Prediction end to end: a folder with an unreadable file and a non-image file (others processed, every format PIL
reads included, the bad ones reported, exit status 2),
.obj round trip, and crop -> original-image mapping of the landmarks."""
import json, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest, torch

@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_flame_dir, tiny_data, tiny_model, console_script):
    tmp = tmp_path_factory.mktemp('infer')
    console_script(tmp / 'predict.py', 'trans3dhead_predict')
    entries = json.loads((tiny_data / 'val' / 'val.json').read_text())
    return tmp, tiny_flame_dir, tiny_data, tiny_model, entries

def test_folder_with_bad_file(setup):
    tmp, fdir, root, mdir, entries = setup
    folder = tmp / 'mixed'
    folder.mkdir(exist_ok=True)
    for e in entries: shutil.copy(root / e['img_path'], folder)
    (folder / 'zz_broken.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    (folder / 'notes.txt').write_text('not an image: reported, never silently skipped')
    from PIL import Image
    Image.open(root / entries[0]['img_path']).save(folder / 'as_ppm.ppm')      # every format PIL reads is an input
    out = tmp / 'out'
    r = subprocess.run([sys.executable, str(tmp / 'predict.py'), str(folder), '--model', str(mdir), '--out', str(out),
                        '--obj', '--flame_dir', str(fdir)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 2, r.stdout + r.stderr[-3000:]
    assert 'zz_broken.png' in r.stderr
    stems = [Path(e['img_path']).stem for e in entries] + ['as_ppm']
    for s in stems:
        rec = json.loads((out / f'{s}.json').read_text())
        assert len(rec) == 1 and np.array(rec[0]['landmarks']).shape == (68, 2)
        assert (out / f'{s}.png').is_file() and (out / f'{s}_0.obj').is_file()
    failed = json.loads((out / 'failed.json').read_text())
    assert sorted(failed) == [str(folder / 'notes.txt'), str(folder / 'zz_broken.png')]
    assert 'not an image file' in failed[str(folder / 'notes.txt')] and 'notes.txt' in r.stderr

def test_cli_errors(setup, tmp_path):
    tmp, fdir, root, mdir, entries = setup
    img = root / entries[0]['img_path']
    def run(*a):
        return subprocess.run([sys.executable, str(tmp / 'predict.py'), *map(str, a)], capture_output=True, text=True,
                              timeout=600)
    r = run(tmp_path / 'nothing.png', '--model', mdir, '--flame_dir', fdir)
    assert r.returncode == 2 and 'no such file' in r.stderr
    r = run(img, '--model', tmp_path / 'no_model', '--flame_dir', fdir)
    assert r.returncode == 2 and 'no such model' in r.stderr
    r = run(img, '--model', mdir, '--flame_dir', fdir, '--box', '1,2', '--out', tmp_path / 'o')
    assert r.returncode == 2 and 'x,y,w,h' in r.stderr
    r = run('--help')
    assert r.returncode == 0 and '--obj' in r.stdout
    box = ','.join(map(str, entries[0]['bbox']))
    r = run(img, '--model', mdir, '--flame_dir', fdir, '--box', box, '--out', tmp_path / 'ok')
    assert r.returncode == 0, r.stderr[-2000:]

def test_obj_round_trip_and_mapping(setup, tmp_path):
    from trans3dhead.inference import predict, write_obj, read_obj, crop_input, head_crop
    from trans3dhead.checkpoint import load_model
    from trans3dhead.data import load_image
    from trans3dhead.spaces import orig_to_crop
    tmp, fdir, root, mdir, entries = setup
    model = load_model(mdir, flame_dir=fdir)
    e = entries[1]
    f = predict(root / e['img_path'], model, boxes=e['bbox'])[0]
    v, faces = read_obj(write_obj(tmp_path / 'h.obj', f))
    assert v.shape == (model.flame.n_vertices, 3) and faces.shape == tuple(model.flame.faces.shape)
    assert np.allclose(v, f.vertices, atol=1e-5) and (faces == f.faces).all()
    # crop -> original: the crop is the evaluation crop of the box; mapping the output back into it gives the model's
    # crop pixels
    img = load_image(root / e['img_path'])
    crop, cut = head_crop(e['bbox'], img.size)
    assert np.allclose(f.crop, crop)
    with torch.no_grad(): o = model(crop_input(img, f.crop, box=cut)[None])
    assert np.allclose(orig_to_crop(f.landmarks, f.crop), o.landmarks[0].double().numpy(), atol=1e-3)
    assert np.allclose(orig_to_crop(f.vertices[:, :2], f.crop), o.flame.projected[0].double().numpy(), atol=1e-3)
    # and the mapping is the data set's: the ground-truth landmarks in original px, taken to crop px and back, are
    # unchanged
    from trans3dhead.spaces import crop_to_orig
    pts = np.random.default_rng(0).uniform(0, 300, (68, 2))
    assert np.allclose(crop_to_orig(orig_to_crop(pts, f.crop), f.crop), pts)

def test_haar_detector_if_available(setup):
    from trans3dhead.detect import haar_detector
    det = haar_detector()
    if det is None: pytest.skip('OpenCV (with Haar cascades) not installed')
    from PIL import Image
    assert det(Image.new('RGB', (64, 64))) == []          # nothing in a black image

def test_onnx_default_model(setup):
    "`runtime='onnx'` with no model runs the shipped model's ONNX export, and predict_batch the same numbers."
    pytest.importorskip('onnxruntime')
    from trans3dhead.inference import predict, predict_batch
    tmp, fdir, root, mdir, entries = setup
    img, box = root / entries[0]['img_path'], entries[0]['bbox']
    pt, po = (predict(img, boxes=box, runtime=rt, detector=None)[0] for rt in ('torch', 'onnx'))
    assert np.abs(pt.landmarks - po.landmarks).max() < 1e-3 and np.abs(pt.vertices - po.vertices).max() < 1e-3
    fb = predict_batch([img, img], boxes=[box, box])                    # the landmarks-and-pose file, no mesh
    assert fb.vertices is None and fb.landmarks.shape == (2, 68, 2)
    assert np.abs(fb.landmarks[1] - pt.landmarks).max() < 1e-3 and np.abs(fb.euler[0] - pt.euler).max() < 1e-3
    assert np.abs(fb.landmarks_mesh[0] - pt.landmarks_mesh).max() < 1e-3
