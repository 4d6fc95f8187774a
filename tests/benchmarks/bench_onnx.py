"""CPU latency at batch 1: ONNX Runtime vs eager torch, at 1 and 2 threads, for the demo's CPU config and the paper's.

Run: python tests/benchmarks/bench_onnx.py [--reps 20] [--threads 1 2] [--configs cpu paper] [--out PATH]
Each config (random weights, float32, eval mode, the FLAME layer on the embedded default head or the FLAME folder
found) is exported with `export_onnx` and timed: median of `reps` calls after 3 warm-up calls, torch (`no_grad`,
`torch.set_num_threads(n)`) and ONNX Runtime (`intra_op_num_threads = n`) alternating call by call so that load from
other processes hits both alike. Prints a table and writes it, with the machine and its load average, to --out
(default tests/benchmarks/results/bench_onnx.json, read by nbs/17_export.ipynb).
"""
import argparse, json, os, platform, statistics, tempfile, time, warnings
from datetime import datetime, timezone
from pathlib import Path
import torch

OUT = Path(__file__).parent / 'results' / 'bench_onnx.json'


def configs():
    "{name: ModelConfig}: the demo's CPU-sized model (`RECIPES['main']`) and the paper's (resnet50, 256 px)."
    from dataclasses import replace
    from trans3dhead.model import preset
    from trans3dhead.recipe import RECIPES
    return {'cpu': replace(RECIPES['main'], pretrained=False).model_config(),
            'paper': preset('trans3dhead', pretrained=False)}


def latency(model, session, x, threads, reps):
    "Median seconds per call of eager torch and of ONNX Runtime on `x`, alternating."
    from trans3dhead.export import run_onnx
    torch.set_num_threads(threads)
    t = {'torch': [], 'onnx': []}
    with torch.no_grad():
        for i in range(reps + 3):
            for k, f in (('torch', lambda: model(x)), ('onnx', lambda: run_onnx(session, x))):
                t0 = time.perf_counter()
                f()
                dt = time.perf_counter() - t0
                if i >= 3: t[k].append(dt)
    return {k: statistics.median(v) for k, v in t.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reps', type=int, default=20)
    ap.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--configs', nargs='+', default=['cpu', 'paper'])
    ap.add_argument('--out', default=str(OUT))
    a = ap.parse_args()
    from trans3dhead.model import build_model
    from trans3dhead.export import export_onnx, onnx_session
    import onnxruntime
    rows, tmp = [], Path(tempfile.mkdtemp(prefix='bench_onnx_'))
    load0 = os.getloadavg()[0]
    for name in a.configs:
        cfg = configs()[name]
        torch.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            model = build_model(cfg).eval()
        path = export_onnx(model, tmp / f'{name}.onnx')
        x = torch.randn(1, 3, cfg.crop_size, cfg.crop_size)
        for n in a.threads:
            t = latency(model, onnx_session(path, n), x, n, a.reps)
            rows.append(dict(config=name, backbone=cfg.backbone, crop=cfg.crop_size, d_model=cfg.d_model,
                             flame_vertices=model.flame.n_vertices, threads=n, torch_ms=round(t['torch'] * 1e3, 2),
                             onnx_ms=round(t['onnx'] * 1e3, 2), speedup=round(t['torch'] / t['onnx'], 2)))
            r = rows[-1]
            print(f"{name:6s} {cfg.backbone:9s} {cfg.crop_size:4d}px  {n} thread(s): torch {r['torch_ms']:8.2f} ms  "
                  f"onnxruntime {r['onnx_ms']:8.2f} ms  torch/onnx {r['speedup']:.2f}x", flush=True)
        path.unlink()
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs (shared), "
               f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, batch 1, median of {a.reps} calls, "
               f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, 1-min load average {load0:.1f} at the start, "
               f"{os.getloadavg()[0]:.1f} at the end")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(dict(machine=machine, rows=rows), indent=1) + '\n')
    print(machine)
    print(f'written to {a.out}')


if __name__ == '__main__': main()
