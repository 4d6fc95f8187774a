"""Face detection in `predict`: with dlib installed, `predict(detector='auto')` finds every face of the check set's
group photo (six people) and crops each with the head box the model was trained on. Skipped without dlib or photos."""
import numpy as np, pytest
from trans3dhead.checkset import load_checkset
from trans3dhead.data import aflw_bbox
from trans3dhead.detect import auto_detector
from trans3dhead.inference import predict


def test_predict_finds_every_face(request):
    det = auto_detector()
    if det is None or det.name == 'haar':        # Haar's frontal cascade is a last resort, not held to this test
        pytest.skip('no MTCNN or dlib face detector installed (pip install "trans3dhead[detect]")')
    cs = {rec['path'].rsplit('/', 1)[-1]: (img, faces) for rec, img, faces in load_checkset()}
    if 't1.jpg' not in cs: pytest.skip('the check-set group photo (insightface 2.1 sdist) is not in the cache')
    fdir, model = request.getfixturevalue('tiny_flame_dir'), request.getfixturevalue('tiny_model')
    img, faces = cs['t1.jpg']
    preds = predict(np.asarray(img), model, flame_dir=fdir)
    assert len(preds) == len(faces) == 6 and not preds.failed
    for f in faces:  # each reference face has a predicted head whose box is its head box
        want = aflw_bbox(np.array(f['landmarks'], dtype=np.float64))
        got = min((p.box for p in preds), key=lambda b: np.abs(b - want).sum())
        assert np.abs(got - want).max() < 0.25 * want[2:].max()
