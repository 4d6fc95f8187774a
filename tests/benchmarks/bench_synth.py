"Images per second of SynthHeads generation (PNG + annotation writing included): `python tests/benchmarks/bench_synth.py [n] [workers]`."
import sys, time, tempfile, shutil
from pathlib import Path

def main(n=200, workers=2, flame_dir=None):
    from trans3dhead.synth import generate_synthheads
    tmp = Path(tempfile.mkdtemp())
    try:
        generate_synthheads(tmp / 'warm', 2 * workers, 0, 0, flame_dir=flame_dir, workers=1, progress=False)  # build caches
        t = time.perf_counter()
        generate_synthheads(tmp / 'bench', n, 0, 0, seed=1, flame_dir=flame_dir, workers=workers, progress=False)
        dt = time.perf_counter() - t
        print(f"SynthHeads: {n} images in {dt:.1f} s with {workers} workers: {n / dt:.1f} images/s (incl. worker start-up)")
    finally: shutil.rmtree(tmp)

if __name__ == '__main__':
    a = sys.argv[1:]
    main(int(a[0]) if a else 200, int(a[1]) if len(a) > 1 else 2, a[2] if len(a) > 2 else None)
