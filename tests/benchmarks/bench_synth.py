"""Images per second of SynthHeads generation (PNG + annotation writing included):
`python tests/benchmarks/bench_synth.py [n] [workers]`.

Wall-clock throughput includes starting the worker pool. Also printed: CPU time per image (workers + main process,
start-up included) and the load average, since other processes on a shared machine lower the wall-clock figure."""
import os, sys, time, tempfile, shutil, resource
from pathlib import Path

def _cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

def main(n=200, workers=2, flame_dir=None):
    from trans3dhead.synth import generate_synthheads
    tmp = Path(tempfile.mkdtemp())
    try:
        generate_synthheads(tmp / 'warm', 2 * workers, 0, 0, flame_dir=flame_dir, workers=1, progress=False)  # build caches
        load = os.getloadavg()[0]
        c = _cpu()
        t = time.perf_counter()
        generate_synthheads(tmp / 'bench', n, 0, 0, seed=1, flame_dir=flame_dir, workers=workers, progress=False)
        dt, cpu = time.perf_counter() - t, _cpu() - c
        print(f"SynthHeads: {n} images in {dt:.1f} s with {workers} workers: {n / dt:.1f} images/s (incl. worker start-up); "
              f"CPU {1000 * cpu / n:.1f} ms/image (all processes, start-up included); load average before {load:.1f} "
              f"on {os.cpu_count()} cores")
    finally: shutil.rmtree(tmp)

if __name__ == '__main__':
    a = sys.argv[1:]
    main(int(a[0]) if a else 200, int(a[1]) if len(a) > 1 else 2, a[2] if len(a) > 2 else None)
