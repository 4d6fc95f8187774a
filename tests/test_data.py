"Integration: SynthHeads (trans3dhead.synth) written to disk and read back through trans3dhead.data / meanface."
import numpy as np, pytest, torch
from trans3dhead.data import DAD3DHeads, get_dls
from trans3dhead.meanface import mean_face
from trans3dhead.spaces import crop_to_orig
from trans3dhead.synth import generate_synthheads

@pytest.fixture(scope='module')
def synth(tmp_path_factory, tiny_flame_dir):
    root = generate_synthheads(tmp_path_factory.mktemp('synth') / 'synth', n_train=6, n_val=2, n_test=2, seed=0,
                               flame_dir=tiny_flame_dir, workers=1, progress=False)
    return root, tiny_flame_dir

def test_synth_roundtrip(synth):
    root, flame_dir = synth
    ds = DAD3DHeads(root, 'train', flame_dir=flame_dir)
    assert len(ds) == 6 and ds.annotated
    V, Vh = int(ds.flame.n_vertices), len(ds.flame.head_idx)
    for i in range(len(ds)):
        it = ds[i]
        assert it['image'].shape == (3, 256, 256) and it['landmarks'].shape == (68, 2)
        assert it['head_vertices'].shape == (Vh, 3) and it['head_projected'].shape == (Vh, 2)
        assert it['vertices'].shape == (V, 3) and it['rotation'].shape == (3, 3) and it['euler'].shape == (3,)
        assert torch.isfinite(it['landmarks']).all()
        assert (it['landmarks'] >= 0).all() and (it['landmarks'] <= 256).all(), it['item_id']
        # crop px -> original px agrees with P·MV·v of the full mesh's landmarks
        back = crop_to_orig(it['landmarks'].double(), it['crop'])
        assert torch.allclose(back, it['landmarks_orig'].double(), atol=1e-3)
        # R_gt is a rotation
        R = it['rotation'].double()
        assert torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-4)

def test_synth_splits_and_dls(synth):
    root, flame_dir = synth
    te = DAD3DHeads(root, 'test')
    assert not te.annotated and len(te) == 2 and 'landmarks' not in te[0]
    dls = get_dls(root, bs=2, num_workers=0, flame_dir=flame_dir)
    b = dls.one_batch()
    assert b['image'].shape == (2, 3, 256, 256) and b['landmarks'].shape == (2, 68, 2)
    assert len(b['item_id']) == 2 and isinstance(b['item_id'][0], str)
    vb = dls.valid.one_batch()
    assert vb['landmarks'].shape == (2, 68, 2)

def test_synth_mean_face(synth):
    root, flame_dir = synth
    mf = mean_face(root, flame_dir=flame_dir)
    assert mf.shape == (68, 2) and (np.abs(mf) < 1).all()
    assert (root / 'mean_face_68.npy').is_file()
