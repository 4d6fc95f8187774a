"SynthHeads end to end: DAD-3DHeads structure, determinism across worker counts, reprojection checks."
import json
import numpy as np, pytest, torch
from PIL import Image
from matplotlib.path import Path as MPath
from trans3dhead.errors import ConfigError
from trans3dhead.render import (SUBPIXEL_TOL, MeshRenderer, Lights, model_view_from_camera, perspective_projection,
                                project_points)
from trans3dhead.rotation import rotation_from_model_view, matrix_to_euler
from trans3dhead.synth import generate_synthheads, check_item, item_id, MARKER, render_item, sample_item_params
from trans3dhead.synth_appearance import item_meshes
from trans3dhead.synth_geometry import load_head_model, euler_rotation

@pytest.fixture(scope='module')
def flame_dir(default_flame_dir):
    "The default head's FLAME folder, as a str."
    return str(default_flame_dir)

@pytest.fixture(scope='module')
def synth(tmp_path_factory, flame_dir):
    return generate_synthheads(tmp_path_factory.mktemp('s') / 'synth', 6, 2, 2, seed=3, flame_dir=flame_dir, workers=1,
                               progress=False)

def test_structure(synth):
    for split, n in (('train', 6), ('val', 2), ('test', 2)):
        items = json.loads((synth / split / f'{split}.json').read_text())
        assert len(items) == n
        for e in items:
            img = Image.open(synth / e['img_path'])
            W, H = img.size
            assert img.mode == 'RGB' and 200 <= min(W, H) and max(W, H) <= 480
            x, y, w, h = e['bbox']
            assert 0 <= x and 0 <= y and w > 10 and h > 10 and x + w <= W + 1e-3 and y + h <= H + 1e-3
            assert ('attributes' in e) == (split != 'val')
            if split == 'test': assert e['annotation_path'] is None
            else:
                a = json.loads((synth / e['annotation_path']).read_text())
                assert np.array(a['vertices']).shape[1] == 3
                assert np.array(a['model_view_matrix']).shape == np.array(a['projection_matrix']).shape == (4, 4)
            if 'attributes' in e:
                at = e['attributes']
                assert at['quality'] in ('hq', 'lq') and at['pose'] in ('front', 'sided', 'atypical')
                assert all(isinstance(at[k], bool) for k in ('expression', 'occlusions', 'standard light'))
    assert (synth / MARKER).exists() and not (synth / '.tmp').exists() and not (synth / 'test' / 'annotations').exists()

def test_reprojection(synth, flame_dir):
    head = load_head_model(flame_dir)
    items = json.loads((synth / 'train' / 'train.json').read_text())
    checks = [check_item(synth, e, head) for e in items]
    assert all(c['max_px'] <= 0.5 + SUBPIXEL_TOL for c in checks), checks
    assert sum(c['covered'] for c in checks) / sum(c['visible'] for c in checks) >= 0.95, checks

def test_rotation_convention(synth):
    "R_gt = (diag(1,-1,-1,1) MV)[:3,:3] is a rotation; the ground-truth Euler angles stay within the sampled limits."
    for e in json.loads((synth / 'train' / 'train.json').read_text()):
        mv = torch.tensor(json.loads((synth / e['annotation_path']).read_text())['model_view_matrix'], dtype=torch.float64)
        R = rotation_from_model_view(mv)
        assert torch.allclose(R @ R.T, torch.eye(3, dtype=torch.float64), atol=1e-6) and torch.det(R) > 0
        eul = matrix_to_euler(R)
        assert (eul.abs() <= torch.tensor([100., 60., 45.], dtype=torch.float64) + 1e-3).all(), eul

def test_deterministic_across_workers(synth, flame_dir, tmp_path):
    other = generate_synthheads(tmp_path / 'again', 6, 2, 2, seed=3, flame_dir=flame_dir, workers=2, progress=False)
    for rel in (f"train/annotations/{item_id('train', 5)}.json", f"val/annotations/{item_id('val', 1)}.json",
                f"test/images/{item_id('test', 0)}.png", 'train/train.json', 'test/test.json'):
        assert (synth / rel).read_bytes() == (other / rel).read_bytes(), rel

def test_bad_root(tmp_path, flame_dir):
    f = tmp_path / 'file'
    f.write_text('x')
    with pytest.raises(ConfigError, match='not a folder'): generate_synthheads(f, 1, 0, 0, flame_dir=flame_dir, progress=False)

def test_appearance(flame_dir):
    """The painted face reads as a face: in the mean of 8 frontal renders of the template the eyes (inside landmarks
    36-41, 42-47) are darker than the cheek, and each face has a dark pupil; appearance is deterministic per seed and
    never touches the annotation."""
    head, rnd = load_head_model(flame_dir), MeshRenderer(shading='vertex')
    p0 = np.zeros((1, head.layout.n))
    p0[0, head.layout.rotation] = [1, 0, 0, 0, 1, 0]
    v, R, size = head.vertices(p0)[0], euler_rotation([0., 0, 0]), (256, 256)
    mv, P = model_view_from_camera(R, [0, 0.01, 0.6] - R @ head.center), perspective_projection(450., size)
    lights = Lights([[0., -0.3, -1.]], [[0.7] * 3], ambient=np.full(3, 0.35), gamma=2.2)
    def face(seed):
        verts, faces, cols, uvw, tex, _ = item_meshes(np.random.default_rng(seed), head, v, np.zeros(3), R)
        return rnd.render_rgba(verts, faces, cols, mv, P, size, lights, uvw=uvw, texture=tex)[..., :3].mean(-1)
    ims = [face(s) for s in range(8)]
    lum, l = np.mean(ims, 0), project_points(v[head.regions['lmk_vertex']], mv, P, size[1])
    yy, xx = np.mgrid[0:size[1], 0:size[0]] + 0.5
    inside = lambda poly: MPath(poly).contains_points(np.stack([xx.ravel(), yy.ravel()], 1)).reshape(lum.shape)
    eyes = inside(l[36:42]) | inside(l[42:48])
    cheek = np.hypot(xx - (l[3, 0] + l[31, 0]) / 2, yy - (l[3, 1] + l[31, 1]) / 2) < 0.1 * np.linalg.norm(l[36] - l[45])
    assert eyes.sum() > 20 and cheek.sum() > 20
    assert lum[eyes].mean() < 0.8 * lum[cheek].mean()
    assert all(np.percentile(im[eyes], 5) < 0.3 * im[cheek].mean() for im in ims)
    np.testing.assert_array_equal(face(3), ims[3])
    _, params, ex = sample_item_params(0, "train", 0, head.layout)
    verts = head.vertices(params[None])[0]
    a, b = (render_item(head, rnd, sample_item_params(0, 'train', 0, head.layout)[0], verts, ex) for _ in range(2))
    assert a.vertices is verts and np.array_equal(np.asarray(a.image), np.asarray(b.image))
