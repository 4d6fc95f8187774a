"""Training-loader throughput: SynthHeads / DAD-3DHeads items decoded, cropped with random margins and batched
(images per second), by number of worker processes. Does the data keep the model fed?

    python tests/benchmarks/bench_loader.py DATA_ROOT [--workers 0 2 4 8 16] [--bs 64] [--crop 256] [--images 2000]

Items are reused across epochs until `--images` have been loaded; the first batch (worker start-up) is not timed.
"""
import argparse, json, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from trans3dhead.data import DAD3DHeads, dad_dataloader  # noqa: E402


def images_per_second(ds, workers: int, bs: int, n_images: int) -> float:
    "Loader throughput after its first batch, over at least `n_images` images."
    dl = dad_dataloader(ds, bs, shuffle=True, drop_last=True, num_workers=workers)
    seen, t0 = 0, None
    while seen < n_images:
        for b in dl:
            if t0 is None:
                t0 = time.perf_counter()
                continue
            seen += len(b['image'])
            if seen >= n_images: break
    return seen / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('root')
    ap.add_argument('--split', default='train')
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    ap.add_argument('--bs', type=int, default=64)
    ap.add_argument('--crop', type=int, default=256)
    ap.add_argument('--images', type=int, default=1000)
    ap.add_argument('--json', help='write the results here too')
    a = ap.parse_args()
    ds = DAD3DHeads(a.root, a.split, train=True, crop_size=a.crop)
    rows = {w: images_per_second(ds, w, a.bs, a.images) for w in a.workers}
    print(f'| workers | img/s ({len(ds)} {a.split} items, batch {a.bs}, {a.crop}² crops) |\n|---|---|')
    for w, r in rows.items(): print(f'| {w} | {r:.0f} |')
    if a.json: Path(a.json).write_text(json.dumps(dict(bs=a.bs, crop=a.crop, items=len(ds), img_per_s=rows)) + '\n')


if __name__ == '__main__':
    main()
