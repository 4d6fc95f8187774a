"""Draw the front page's picture, nbs/images/front.jpg: the shipped pretrained model (`trans3dhead/assets/pretrained`)
on the public-domain photos of the real-photo check set (head box from dlib's reference landmarks, as the check set's
score uses) and on SynthHeads test images rendered by today's generator (seed 0, the items' own boxes). Mesh edges
blue, 68 landmarks red, dlib's reference points green, pose axes.

nbs/images/front.json records what the picture was drawn from: the sha256 of the model's files, the photos, and per
SynthHeads item its box and a 16×16 grey thumbnail. `--check` re-renders those items (a few seconds) and exits 1
when the model files or the generator's images differ from the record: the picture is stale, run this script again.
The docs check (tests/docs_check.py) runs `--check`.

    python tests/benchmarks/make_front_picture.py           # draw front.jpg, write front.json
    python tests/benchmarks/make_front_picture.py --check   # is the picture current?
"""
import argparse, hashlib, json, sys, tempfile
from pathlib import Path

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image
from trans3dhead.checkset import load_checkset, score_checkset
from trans3dhead.inference import draw_prediction, predict
from trans3dhead.pretrained import PRETRAINED_DIR, load_pretrained
from trans3dhead.synth import generate_synthheads

ROOT = Path(__file__).resolve().parents[2]
PICTURE, RECORD = ROOT / 'nbs' / 'images' / 'front.jpg', ROOT / 'nbs' / 'images' / 'front.json'
SEED, N_SYNTH = 0, 4          # the first N_SYNTH test items of SynthHeads seed 0
THUMB, THUMB_TOL = 16, 8      # thumbnail side (px); largest grey-level difference still counted as the same image
MODEL_FILES = ('weights.pth', 'config.json', 'mean_face.npy', 'card.json')


def sha256(data: bytes) -> str: return hashlib.sha256(data).hexdigest()


def thumbnail(img: Image.Image) -> str:
    """`img` in grey, box-filtered to THUMB × THUMB, as hex: a fingerprint that survives rasteriser noise, not a new
    generator."""
    return np.asarray(img.convert('L').resize((THUMB, THUMB), Image.BOX), dtype=np.uint8).tobytes().hex()


def grey(thumb: str) -> np.ndarray: return np.frombuffer(bytes.fromhex(thumb), dtype=np.uint8).astype(int)


def synth_items(work: Path) -> list:
    "[(entry, RGB image)] of the first N_SYNTH SynthHeads test items of seed SEED, rendered into `work`."
    root = generate_synthheads(work / 'synthheads', 0, 0, N_SYNTH, seed=SEED, workers=1, progress=False)
    return [(e, Image.open(root / e['img_path']).convert('RGB'))
            for e in json.loads((root / 'test' / 'test.json').read_text())]


def public_photos() -> list:
    "The check set's public-domain photos: [(record, image, faces)]."
    return [c for c in load_checkset() if c[0]['licence'].startswith('public domain')]


def record(photos, items, photo_nme) -> dict:
    "What the picture is drawn from (see the module docstring)."
    return dict(model={f: sha256((PRETRAINED_DIR / f).read_bytes()) for f in MODEL_FILES},
                photos=[dict(path=rec['path'], sha256=rec['sha256'], licence=rec['licence'], faces=len(faces), nme=n)
                        for (rec, _, faces), n in zip(photos, photo_nme)],
                synthheads=dict(seed=SEED, split='test', items=[dict(item_id=e['item_id'], bbox=e['bbox'],
                                                                     thumbnail=thumbnail(img)) for e, img in items]))


def stale(old: dict, photos, items) -> list[str]:
    "Why the recorded picture no longer shows the current model and generator (empty list: it is current)."
    why = [f'{f} of the pretrained model changed' for f in MODEL_FILES
           if old['model'].get(f) != sha256((PRETRAINED_DIR / f).read_bytes())]
    have = {rec['path']: rec['sha256'] for rec, _, _ in photos}
    why += [f"check-set photo {p['path']} changed" for p in old['photos']
            if have.get(p['path'], p['sha256']) != p['sha256']]
    recorded = old['synthheads']['items']
    if [r['item_id'] for r in recorded] != [e['item_id'] for e, _ in items]:
        return why + ['SynthHeads item ids changed']
    for r, (e, img) in zip(recorded, items):
        diff = np.abs(grey(r['thumbnail']) - grey(thumbnail(img))).max()
        if diff > THUMB_TOL or not np.allclose(r['bbox'], e['bbox'], atol=0.5):
            why.append(f"SynthHeads {e['item_id']} renders differently now (grey levels differ by up to {diff})")
    return why


def zoom(ax, box, shape, margin: float = 1.7):
    "Show the square of side `margin`·max(w, h) around head box `box` (x, y, w, h), inside the image."
    x, y, w, h = box
    s = margin * max(w, h) / 2
    cx, cy = x + w / 2, y + h / 2
    ax.set_xlim(max(cx - s, 0), min(cx + s, shape[1]))
    ax.set_ylim(min(cy + s, shape[0]), max(cy - s, 0))


def draw(model, photos, items, photo_preds) -> plt.Figure:
    "Top row: the photos with dlib's reference (green); bottom row: the SynthHeads items."
    fig = plt.figure(figsize=(12, 9.5))
    grid, span = fig.add_gridspec(2, N_SYNTH, height_ratios=[1.5, 1]), N_SYNTH // len(photos)
    top = [fig.add_subplot(grid[0, k * span:(k + 1) * span]) for k in range(len(photos))]
    for ax, (rec, img, faces), preds in zip(top, photos, photo_preds):
        draw_prediction(img, preds, ax=ax)
        for f in faces:
            ref = np.array(f['landmarks'])
            ax.scatter(ref[:, 0], ref[:, 1], s=5, c='lime', zorder=2)
        zoom(ax, preds[0].box, np.asarray(img).shape)
        ax.set_title(f"{rec['path'].rsplit('/', 1)[-1]} (real photo)", fontsize=10)
    for k, (e, img) in enumerate(items):
        ax = fig.add_subplot(grid[1, k])
        faces = predict(np.asarray(img), model, boxes=[e['bbox']], detector=None).faces
        draw_prediction(img, faces, ax=ax)
        zoom(ax, e['bbox'], np.asarray(img).shape)
        ax.set_title(f"SynthHeads test {k}", fontsize=10)
    fig.tight_layout()
    return fig


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--check', action='store_true', help='exit 1 when front.jpg is stale (nothing is drawn)')
    a = ap.parse_args()
    photos = public_photos()
    with tempfile.TemporaryDirectory() as work:
        items = synth_items(Path(work))
        if a.check:
            if not RECORD.is_file(): sys.exit(f'{RECORD} missing: run python tests/benchmarks/make_front_picture.py')
            why = stale(json.loads(RECORD.read_text()), photos, items)
            if why: sys.exit(f'{PICTURE.name} is stale ({"; ".join(why)}): run python tests/benchmarks/'
                             'make_front_picture.py')
            return print(f'{PICTURE.name} shows the current pretrained model and SynthHeads')
        model = load_pretrained('cpu')
        res = score_checkset(model, photos)
        draw(model, photos, items, res['predictions']).savefig(PICTURE, dpi=80, pil_kwargs={'quality': 85})
    per_photo = np.split(np.array(res['per_face']), np.cumsum([len(f) for _, _, f in photos])[:-1])
    RECORD.write_text(json.dumps(record(photos, items, [float(n.mean()) for n in per_photo]), indent=1) + '\n')
    print(f'wrote {PICTURE} and {RECORD}')


if __name__ == '__main__':
    main()
