"""Benchmark QAMem: Eq. 2 (N separate memories) vs Eq. 3 (attention, then grouped 1x1 conv) on the CPU.

Run: python tests/benchmarks/bench_qamem.py [--n 68 --d 256 --side 8 --bs 32 --reps 5]
Prints time per call, the rise of peak resident memory during one call (each form in a fresh process,
so one form's high-water mark does not hide the other's), and FLOPs from torch.utils.flop_counter.
"""
import argparse, json, resource, subprocess, sys, time


def _maxrss_mb():
    "Peak resident set size of this process so far, MiB (Linux reports KiB)."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(form, n, d, side, bs, reps):
    "Run one form in this process: peak-memory rise of the first call, then mean time over `reps` calls, FLOPs."
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from trans3dhead.qamem import QAMem, qamem_separate, qamem_efficient
    torch.manual_seed(0)
    fn = {'eq2': qamem_separate, 'eq3': qamem_efficient}[form]
    qa = QAMem(n, d, identity_init=False)
    attn = torch.randn(bs, n, side * side).softmax(-1)
    mem = torch.randn(bs, side * side, d)
    with torch.no_grad():
        m0 = _maxrss_mb()
        out = fn(attn, mem, qa)
        peak = _maxrss_mb() - m0
        del out
        fn(attn, mem, qa)  # warm-up
        t0 = time.perf_counter()
        for _ in range(reps): fn(attn, mem, qa)
        dt = (time.perf_counter() - t0) / reps
        with FlopCounterMode(display=False) as fc: fn(attn, mem, qa)
    return dict(form=form, time_ms=dt * 1e3, peak_mb=peak, gflops=fc.get_total_flops() / 1e9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=68)
    ap.add_argument('--d', type=int, default=256)
    ap.add_argument('--side', type=int, default=8)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--child', default=None)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(measure(a.child, a.n, a.d, a.side, a.bs, a.reps)))
        return
    res = {}
    for form in ('eq2', 'eq3'):
        cmd = [sys.executable, __file__, '--child', form] + [f'--{k}={getattr(a, k)}' for k in ('n', 'd', 'side', 'bs',
                                                                                               'reps')]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        res[form] = json.loads(out.strip().splitlines()[-1])
    print(f'QAMem, N={a.n}, d={a.d}, memory {a.side}x{a.side}, batch {a.bs}, CPU float32, no grad')
    for f, name in (('eq2', 'Eq.2 separate memories'), ('eq3', 'Eq.3 grouped 1x1 conv ')):
        r = res[f]
        print(f'{name}: {r["time_ms"]:9.2f} ms/call  peak +{r["peak_mb"]:8.1f} MiB  {r["gflops"]:8.3f} GFLOP')
    e2, e3 = res['eq2'], res['eq3']
    print(f'ratio Eq.2/Eq.3: time {e2["time_ms"] / e3["time_ms"]:.1f}x, '
          f'peak memory {e2["peak_mb"] / max(e3["peak_mb"], 0.1):.1f}x, FLOPs {e2["gflops"] / e3["gflops"]:.1f}x')


if __name__ == '__main__': main()
