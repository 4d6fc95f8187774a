"""GPU speed of the paper's Trans3DHead (ResNet-50 at 256², 413 parameter queries) in one short run (< 4 minutes).

Run on the GPU machine:   python tests/benchmarks/bench_gpu.py results.json
Test it on a CPU:          python tests/benchmarks/bench_gpu.py /tmp/gpu.json --device cpu --tiny
Measures, in this order, writing the JSON after every step (a run cut short still leaves what it measured):
  1. FLAME under bf16 autocast: dtype of the vertices and max |Δ| against float32, for the FLAME layer alone and inside
     the model, and the same with autocast switched off around it (what "FLAME runs in fp32" gives);
  2. inference throughput, bf16 autocast, channels_last, batch 256 and 512 (eager);
  3. batch-1 latency: eager, and replayed from a CUDA graph when capture works;
  4. 30 training steps (Adam, bf16 autocast, the paper's loss, Eq. 8) on random images and FLAME-made targets;
  5. torch.compile (default mode) throughput at batch 256 and 512, when the time left allows; failures are reported
     (smplx's lbs indexes a list with tensor elements: Tensor.item() graph breaks, and CUDA-graph capture may fail).
Random weights (no ImageNet file needed), FLAME: the folder the package finds (the embedded default head otherwise).
Needs torch >= 2.4, the repository on disk (imported from here), fastcore/fastai/smplx installed.
"""
import argparse, json, statistics, sys, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import torch                                                          # noqa: E402
from trans3dhead.files import atomic_write_text                       # noqa: E402
from trans3dhead.flame import FlameLayer, PARAM_LAYOUTS   # noqa: E402
from trans3dhead.spaces import to_crop_pixels
from trans3dhead.losses import MultiInfoLoss                          # noqa: E402
from trans3dhead.model import preset, build_model, init_param_bias    # noqa: E402


class Run:
    "Results dict + the JSON file it is written to + the time budget."
    def __init__(self, out, budget):
        self.out, self.t0, self.budget, self.res = Path(out), time.monotonic(), budget, {}
    def left(self): return self.budget - (time.monotonic() - self.t0)
    def save(self): atomic_write_text(self.out, json.dumps(self.res, indent=1, default=str) + '\n')
    def step(self, name, fn, need=0):
        "Run fn() -> dict into res[name]; an error or too little time left is recorded instead."
        if self.left() < need:
            self.res[name] = dict(skipped=f'{self.left():.0f} s left, needs ~{need} s')
            return
        t = time.monotonic()
        try: self.res[name] = fn()
        except Exception as e:
            self.res[name] = dict(error=f'{type(e).__name__}: {str(e)[:300]}')
            traceback.print_exc()
        self.res[name]['wall_s'] = round(time.monotonic() - t, 1)
        print(f'[{time.monotonic() - self.t0:5.0f} s] {name}: {self.res[name]}', flush=True)
        self.save()


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def timed(fn, dev, reps, warmup=2):
    "Median seconds of fn() over `reps` calls after `warmup` calls, synchronised."
    for _ in range(warmup): fn()
    sync(dev)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        sync(dev)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def images(bs, crop, dev):
    return torch.randn(bs, 3, crop, crop, device=dev).contiguous(memory_format=torch.channels_last)


def flame_precision(model, fl, dev, crop):
    "FLAME's vertices under bf16 autocast vs float32: alone, in the model, and with autocast off around it."
    g = torch.Generator().manual_seed(0)
    bias = init_param_bias(fl, fl.layout.n).to(dev)
    p = bias + 0.3 * torch.randn(64, fl.layout.n, generator=g).to(dev)
    ac = lambda: torch.autocast(dev.type, dtype=torch.bfloat16)
    with torch.no_grad():
        ref = fl(p)
        with ac(): amp = fl(p)
        with ac(), torch.autocast(dev.type, enabled=False): off = fl(p.float())
        x = images(4, crop, dev)
        out32 = model(x)
        with ac(): out16 = model(x)
    d = lambda a, b: (a.float() - b.float()).abs().max().item()
    return dict(flame_alone_dtype=str(amp.vertices.dtype), flame_alone_max_dv=d(amp.vertices, ref.vertices),
                flame_alone_max_dprojected_px=d(amp.projected, ref.projected),
                flame_autocast_off_dtype=str(off.vertices.dtype),
                flame_autocast_off_max_dv=d(off.vertices, ref.vertices),
                model_vertices_dtype=str(out16.flame.vertices.dtype), model_params_dtype=str(out16.params.dtype),
                model_max_dparams=d(out16.params, out32.params),
                model_max_dv=d(out16.flame.vertices, out32.flame.vertices),
                vertex_extent=(ref.vertices.amax(1) - ref.vertices.amin(1)).amax().item(),
                note='max |Δ| vertices in FLAME model-space units; extent = largest side of the head, same units')


def throughput(model, dev, crop, batches, reps, compiled=False, left=lambda: float('inf')):
    res = {}
    for bs in batches:
        if left() < 45:                                               # a new batch size may compile anew
            res[f'b{bs}_img_s'] = f'skipped: {left():.0f} s left'
            continue
        def f(x=images(bs, crop, dev)):
            with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16): return model(x)
        try:
            t0 = time.perf_counter()
            f()
            sync(dev)
            first = time.perf_counter() - t0
            res[f'b{bs}_img_s'] = round(bs / timed(f, dev, reps), 1)
            if compiled: res[f'b{bs}_first_call_s'] = round(first, 1)
        except torch.OutOfMemoryError: res[f'b{bs}_img_s'] = 'out of memory'
        del f
        if dev.type == 'cuda': torch.cuda.empty_cache()
    if dev.type == 'cuda': res['peak_mem_GiB'] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    return res


def latency(model, dev, crop, reps):
    x = images(1, crop, dev)
    def f():
        with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16): return model(x)
    res = dict(eager_b1_ms=round(timed(f, dev, reps, warmup=5) * 1e3, 2))
    if dev.type != 'cuda': return dict(res, cuda_graph='not on CPU')
    try:
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3): f()
        torch.cuda.current_stream().wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph): f()
        res['cuda_graph_b1_ms'] = round(timed(graph.replay, dev, reps, warmup=3) * 1e3, 3)
    except Exception as e: res['cuda_graph'] = f'capture failed: {type(e).__name__}: {str(e)[:200]}'
    return res


def training(model, fl, dev, crop, bs, steps):
    "`steps` Adam steps with bf16 autocast on random images; targets: FLAME of random parameters (Eq. 8 loss)."
    from trans3dhead.learner import to_float32                      # fastai's float32 conversion of outputs
    loss = MultiInfoLoss(fl, crop_size=crop)
    idx = fl.head_idx.to(dev)
    with torch.no_grad():
        p = init_param_bias(fl, fl.layout.n).to(dev) + 0.3 * torch.randn(bs, fl.layout.n, device=dev)
        g = fl(p)
        batch = dict(landmarks=to_crop_pixels(fl.landmarks68(g.posed)[..., :2], crop), head_vertices=g.vertices[:, idx],
                     head_projected=g.projected[:, idx], euler=g.euler)
    x = images(bs, crop, dev)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            out = to_float32(model(x))
            t = loss(out, batch)
        opt.zero_grad(set_to_none=True)
        t['total'].backward()
        opt.step()
        return t['total']
    first = step().item()
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps - 1): last = step()
    last = last.item()
    dt = (time.perf_counter() - t0) / (steps - 1)
    model.eval()
    return dict(batch=bs, steps=steps, step_ms=round(dt * 1e3, 1), img_s=round(bs / dt, 1), loss_first=first,
                loss_last=last, finite=bool(torch.isfinite(torch.tensor(last))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out', help='JSON results file')
    ap.add_argument('--device', default='cuda')
    ap.add_argument('--tiny', action='store_true', help='a small model, for a CPU test')
    ap.add_argument('--budget', type=float, default=225, help='seconds; steps that would not fit are skipped')
    a = ap.parse_args()
    dev = torch.device(a.device)
    if a.tiny:
        cfg = preset('trans3dhead', backbone='resnet18', pretrained=False, d_model=64, nheads=4, dim_ff=128,
                     crop_size=64)
        batches, train_bs, steps, reps, lat_reps = (4, 8), 4, 4, 3, 3
    else:
        cfg = preset('trans3dhead', pretrained=False)                    # the paper's: ResNet-50, 256², 413 queries
        batches, train_bs, steps, reps, lat_reps = (256, 512), 32, 30, 10, 50
    run = Run(a.out, a.budget)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    fl = FlameLayer(None, PARAM_LAYOUTS[cfg.n_params], crop_size=cfg.crop_size)
    model = build_model(cfg, flame=fl).to(dev).eval().to(memory_format=torch.channels_last)
    name = torch.cuda.get_device_name() if dev.type == 'cuda' else 'cpu'
    run.res['setup'] = dict(device=name, torch=torch.__version__,
                            python=sys.version.split()[0], crop=cfg.crop_size, backbone=cfg.backbone,
                            n_params=cfg.n_params, d_model=cfg.d_model, flame_vertices=fl.n_vertices, tiny=a.tiny)
    run.save()
    run.step('flame_bf16_vs_fp32', lambda: flame_precision(model, fl, dev, cfg.crop_size))
    run.step('eager_bf16', lambda: throughput(model, dev, cfg.crop_size, batches, reps))
    run.step('latency_b1', lambda: latency(model, dev, cfg.crop_size, lat_reps))
    run.step('train_bf16', lambda: training(model, fl, dev, cfg.crop_size, train_bs, steps), need=20)
    run.step('compiled_bf16', need=90,
             fn=lambda: throughput(torch.compile(model), dev, cfg.crop_size, batches, reps, True, run.left))
    r = run.res
    s = r['setup']
    print(f"\n| {s['device']} | torch {s['torch']} | {cfg.backbone} {cfg.crop_size}², {cfg.n_params} queries |")
    print('|---|---|---|')
    for name in ('eager_bf16', 'compiled_bf16', 'latency_b1', 'train_bf16', 'flame_bf16_vs_fp32'):
        for k, v in r.get(name, {}).items(): print(f'| {name} | {k} | {v} |')
    print(f'results -> {a.out}')


if __name__ == '__main__': main()
