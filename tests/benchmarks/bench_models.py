"""CPU speed of the bare backbone, Trans3DHead and the DAD-3DNet-style baseline, in one run.

Run: python tests/benchmarks/bench_models.py [--reps 3] [--batches 1 32] [--backbone resnet50] [--threads 1]
(one thread by default: on a shared machine it gives far steadier numbers than competing for all cores; 0 = torch's
default)
Prints parameters, FLOPs (torch.utils.flop_counter, batch 1, 1 multiply-add = 2 FLOPs), latency at batch 1 and
throughput at batch 32 (median of `reps` timed calls after one warm-up; the models are timed round-robin so that
load from other processes hits all of them alike), and the ratios. No gradients, float32, eval mode, random weights.
The FLAME layer is part of both models: the real FLAME / default head if one is found, else the tiny test model.
"""
import argparse, statistics, tempfile, time, warnings
from pathlib import Path
import torch
from torch.utils.flop_counter import FlopCounterMode


def flame_layer(n_params=413):
    "The package's FlameLayer on the FLAME folder found by find_flame_dir, else on make_tiny_flame's model."
    from trans3dhead.flame import FlameLayer, PARAM_LAYOUTS
    from trans3dhead.testing import make_tiny_flame
    from trans3dhead.errors import Trans3DHeadError
    try: return FlameLayer(None, PARAM_LAYOUTS[n_params]), 'found FLAME folder'
    except Trans3DHeadError:
        tiny = make_tiny_flame(Path(tempfile.mkdtemp()) / 'tiny')
        return FlameLayer(tiny, PARAM_LAYOUTS[n_params]), 'tiny test FLAME (642 vertices)'


def models(backbone='resnet50'):
    from trans3dhead.model import ModelConfig, preset, build_model, backbone_body
    from trans3dhead.baseline import build_baseline
    fl, which = flame_layer()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ms = {'backbone': backbone_body(backbone, pretrained=False)[0],
              'trans3dhead': build_model(preset('trans3dhead', backbone=backbone, pretrained=False), flame=fl),
              'dad3dnet': build_baseline(ModelConfig(backbone=backbone, pretrained=False), flame=fl)}
    return {k: m.eval() for k, m in ms.items()}, which


def flops(m, x):
    """FLOPs of one call; attention runs on SDPA's math backend so that its matmuls are counted (the fused CPU kernel is
    not)."""
    from torch.nn.attention import sdpa_kernel, SDPBackend
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as fc: m(x)
    return fc.get_total_flops()


def timings(ms, x, reps):
    "Median seconds per call of each model on x, timed round-robin."
    t = {k: [] for k in ms}
    with torch.no_grad():
        for m in ms.values(): m(x)                      # warm-up
        for _ in range(reps):
            for k, m in ms.items():
                t0 = time.perf_counter()
                m(x)
                t[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in t.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--batches', type=int, nargs='+', default=[1, 32])
    ap.add_argument('--backbone', default='resnet50')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--size', type=int, default=256)
    a = ap.parse_args()
    if a.threads > 0: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ms, which = models(a.backbone)
    print(f'CPU, {torch.get_num_threads()} threads, torch {torch.__version__}, input {a.size}x{a.size}, '
          f'backbone {a.backbone}, FLAME: {which}')
    x1 = torch.randn(1, 3, a.size, a.size)
    print(f'{"model":12s} {"params (M)":>11s} {"GFLOPs/img":>11s}')
    fl = {}
    for k, m in ms.items():
        fl[k] = flops(m, x1) / 1e9
        print(f'{k:12s} {sum(p.numel() for p in m.parameters()) / 1e6:11.2f} {fl[k]:11.2f}')
    print(f'FLOPs ratio trans3dhead/backbone {fl["trans3dhead"] / fl["backbone"]:.2f}x, '
          f'dad3dnet/trans3dhead {fl["dad3dnet"] / fl["trans3dhead"]:.2f}x')
    for bs in a.batches:
        t = timings(ms, torch.randn(bs, 3, a.size, a.size), a.reps)
        line = '  '.join(f'{k} {t[k] * 1e3:8.1f} ms ({bs / t[k]:6.1f} img/s)' for k in ms)
        print(f'batch {bs:3d}: {line}')
        print(f'           trans3dhead/backbone {t["trans3dhead"] / t["backbone"]:.2f}x, '
              f'dad3dnet/trans3dhead {t["dad3dnet"] / t["trans3dhead"]:.2f}x')


if __name__ == '__main__': main()
