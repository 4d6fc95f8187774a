"""The shipped pretrained model: `predict` and `trans3dhead_predict` use it when no model is given, on a real photo
(matplotlib's sample `grace_hopper.jpg`, always installed); the check-set number on its card is what it scores."""
import json, subprocess, sys

import numpy as np, pytest
from matplotlib import cbook

GRACE = cbook.get_sample_data('grace_hopper.jpg', asfileobj=False)      # 512×600, one face


def test_predict_without_a_model():
    from trans3dhead.inference import predict
    preds = predict(GRACE)
    assert preds.failed == {} and len(preds) >= 1
    lm = preds[0].landmarks
    assert lm.shape == (68, 2) and np.isfinite(lm).all()
    assert (lm > 0).all() and (lm[:, 0] < 512).all() and (lm[:, 1] < 600).all()     # on the photo


def test_cli_without_a_model(tmp_path, console_script):
    console_script(tmp_path / 'predict.py', 'trans3dhead_predict')
    r = subprocess.run([sys.executable, str(tmp_path / 'predict.py'), str(GRACE), '--out', str(tmp_path / 'out')],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    faces = json.loads((tmp_path / 'out' / 'grace_hopper.json').read_text())
    assert len(faces) >= 1 and np.array(faces[0]['landmarks']).shape == (68, 2)
    assert (tmp_path / 'out' / 'grace_hopper.png').is_file()


def test_card_is_what_it_scores():
    from trans3dhead.pretrained import load_pretrained, model_card
    from trans3dhead.checkset import load_checkset, score_checkset
    card, checkset = model_card(), load_checkset()
    if sum(len(faces) for _, _, faces in checkset) != card['checkset_faces']:
        pytest.skip("not every check-set photo is installed here (tests/benchmarks/make_checkset.py downloads them)")
    res = score_checkset(load_pretrained('cpu'), checkset)
    assert abs(res['nme'] - card['checkset_nme']) < 0.05, (res['nme'], card['checkset_nme'])
