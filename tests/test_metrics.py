"""End to end: a DAD-3DHeads submission written to disk and scored by the evaluator gives the same numbers as the
in-memory validation metrics, with the real FLAME layer on the generated default head (ground truth made on the fly)."""
import json
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation as SR
from trans3dhead.metrics import batch_chamfer, batch_nme, batch_pose_error, batch_z5
from trans3dhead.evaluate import evaluate, load_ground_truth, read_submission, submission_entries, write_submission
from trans3dhead.spaces import camera_space, project_model_view


@pytest.fixture(scope='module')
def layer(default_flame):
    "The FLAME layer of the generated default head."
    return default_flame


def make_case(layer, tmp_path, B=2, H=480, seed=0):
    "GT in DAD-3DHeads' on-disk format plus a perturbed model-like output for the same items."
    g = torch.Generator().manual_seed(seed)
    n = layer.layout.n if hasattr(layer, 'layout') else 413
    params = torch.zeros(B, n)
    params[:, :50] = 0.5 * torch.randn(B, 50, generator=g)
    with torch.no_grad(): verts = layer(params).vertices.double()                     # GT vertices, model space
    R = torch.tensor(SR.from_euler('yxz', [[20, 10, 5], [-60, -15, 0]][:B], degrees=True).as_matrix())
    mv = torch.eye(4, dtype=torch.float64).repeat(B, 1, 1)
    mv[:, :3, :3] = torch.diag(torch.tensor([1., -1., -1.], dtype=torch.float64)) @ R
    mv[:, 2, 3] = -1.0
    P = np.eye(4)
    P[0, 0] = P[1, 1] = 900.
    P[0, 3], P[1, 3] = 320., 240.            # orthographic camera + viewport
    crop = torch.tensor([[100., 90., 0.9], [120., 80., 1.1]], dtype=torch.float64)[:B]
    root = tmp_path / 'dad'
    (root / 'val/annotations').mkdir(parents=True)
    (root / 'val/images').mkdir()
    from PIL import Image
    items, lmk_crop = [], []
    for i in range(B):
        iid = f'id{i}'
        json.dump(dict(vertices=verts[i].tolist(), model_view_matrix=mv[i].tolist(), projection_matrix=P.tolist()),
                  open(root / f'val/annotations/{iid}.json', 'w'))
        Image.new('RGB', (640, H)).save(root / f'val/images/{iid}.png')
        items.append(dict(item_id=iid, annotation_path=f'val/annotations/{iid}.json', img_path=f'val/images/{iid}.png',
                          bbox=[150, 100, 200, 240], attributes=dict(pose=['front', 'sided'][i])))
        l68 = layer.landmarks68(verts[i][None].float()).double()
        px = project_model_view(l68, mv[i][None], torch.tensor(P)[None], [H])[0]
        lmk_crop.append((px - crop[i, :2]) * crop[i, 2])
    json.dump(items, open(root / 'val.json', 'w'))
    batch = dict(landmarks=torch.stack(lmk_crop), bbox=torch.tensor([i['bbox'] for i in items], dtype=torch.float64),
                 crop=crop, vertices=verts, model_view=mv, rotation=R, item_id=[i['item_id'] for i in items])
    # a prediction: GT camera space (a similarity of it) with noise; landmarks off by a few pixels; rotation slightly off
    posed = camera_space(verts, mv) * 3.0 + 0.002 * torch.randn(verts.shape, generator=g, dtype=torch.float64)
    out = type('Out', (), {})()
    out.flame = type('F', (), {})()
    out.flame.posed, out.flame.rotation = posed, torch.tensor(SR.from_rotvec([0, 0.1, 0]).as_matrix()) @ R
    out.landmarks = batch['landmarks'] + 2.0
    return root, out, batch


def test_submission_roundtrip_matches_in_memory(layer, tmp_path):
    root, out, batch = make_case(layer, tmp_path)
    gts = load_ground_truth(root, 'val')
    sub = read_submission(write_submission(submission_entries(out, batch, layer), tmp_path / 'sub.json', decimals=6))
    df, missing = evaluate(sub, gts, layer)
    assert missing == []
    np.testing.assert_allclose(df['nme'], batch_nme(out, batch, layer).numpy(), rtol=1e-4)
    np.testing.assert_allclose(df['z5'], batch_z5(out, batch, layer).numpy(), atol=2e-3)
    np.testing.assert_allclose(df['chamfer'], batch_chamfer(out, batch, layer).numpy(), rtol=1e-3)
    np.testing.assert_allclose(df['pose_err'], batch_pose_error(out, batch).numpy(), atol=1e-5)
    assert (df['pose_err'] > 0).all() and (df['nme'] > 0).all() and (df['z5'] < 1).all()
