"""The real-photo check set: the committed reference is well formed, a model is scored on the photos found (skipped
when none of the photo packages is installed or in the cache) and the gallery is drawn.

Score a trained model:  T3H_CHECKSET_MODEL=runs/x/model python -m pytest -q -s tests/test_checkset.py
(the NME is printed; T3H_CHECKSET_GALLERY=out.png keeps the gallery). Collect the photos first with
`python tests/benchmarks/make_checkset.py` (needs dlib) or `python -c "from trans3dhead.checkset import *;
load_checkset(download=True)"` (pip only)."""
import json, os
from pathlib import Path
import numpy as np, pytest
from trans3dhead.checkset import CHECKSET_JSON, CHECKSET_PHOTOS, load_checkset, score_checkset, checkset_gallery


def test_reference_is_well_formed():
    ref = json.loads(CHECKSET_JSON.read_text())['photos']
    faces = [f for r in ref for f in r['faces']]
    assert len(faces) >= 10
    assert all(np.array(f['landmarks']).shape == (68, 2) for f in faces)
    assert {(r['package'], r['path']) for r in ref} == {(p[0], p[2]) for p in CHECKSET_PHOTOS}
    for r in ref:                                    # every face inside its photo
        W, H = r['image_size']
        for f in r['faces']:
            p = np.array(f['landmarks'])
            assert (p >= -5).all() and (p[:, 0] <= W + 5).all() and (p[:, 1] <= H + 5).all()


def _model(request):
    "The model of T3H_CHECKSET_MODEL (a model folder), else an untrained tiny one (the numbers then mean nothing)."
    if os.environ.get('T3H_CHECKSET_MODEL'): return os.environ['T3H_CHECKSET_MODEL'], None
    return request.getfixturevalue('tiny_model'), request.getfixturevalue('tiny_flame_dir')


def test_score_and_gallery(tmp_path, request):
    cs = load_checkset()
    if not cs: pytest.skip("no check-set photo package installed or downloaded (see this file's docstring)")
    model, fdir = _model(request)
    res = score_checkset(model, cs, fdir)
    n = sum(len(c[2]) for c in cs)
    assert len(res['per_face']) == n and np.isfinite(res['per_face']).all()
    assert all(len(p) == len(c[2]) for p, c in zip(res['predictions'], cs))
    print(f"\ncheck set: NME {res['nme']:.2f} on {n} faces in {len(cs)} photos "
          f"({os.environ.get('T3H_CHECKSET_MODEL') or 'untrained tiny model'})")
    out = Path(os.environ.get('T3H_CHECKSET_GALLERY') or tmp_path / 'gallery.png')
    checkset_gallery(cs, res['predictions']).savefig(out, dpi=60)
    assert out.stat().st_size > 10_000


def test_reference_is_dlibs():
    "The committed points are what dlib's predictor gives on the first photo found (when dlib and its model are here)."
    dlib = pytest.importorskip('dlib')
    import importlib.util
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None: pytest.skip('face-recognition-models (the 68-point predictor file) is not installed')
    cs = load_checkset()
    if not cs: pytest.skip('no check-set photos here')
    rec, img, faces = cs[0]
    pred = dlib.shape_predictor(str(Path(spec.submodule_search_locations[0]) / 'models' /
                                    'shape_predictor_68_face_landmarks.dat'))
    for f in faces:
        x, y, w, h = f['face_box']
        pts = pred(np.asarray(img), dlib.rectangle(x, y, x + w - 1, y + h - 1))      # dlib: w = right - left + 1
        assert [[p.x, p.y] for p in pts.parts()] == f['landmarks']
