"""CPU training throughput at the main job's configuration (`trans3dhead_demo`: ResNet-18 from scratch, 96² crops,
d = 64, batch 16, one-cycle, fp32): images per second end to end, and where one step's time goes.

    python tests/benchmarks/bench_train.py [--data DIR] [--steps 12] [--threads 2] [--variants before after] [--repeat 1]

`before`: the plain loader (`get_dls`, 2 worker processes, as `trans3dhead_demo`) and fastai's per-tensor `Adam`;
`after`: the cached loader (`trans3dhead.fastdata.fast_dls`, no worker processes, cache filled first: its one-off cost
is printed) and `FusedAdam` (`trans3dhead.learner.paper_adam`). Same model, loss, batch size and crops.
End to end: `--steps` training batches of a real fastai fit after 2 warm-up batches (no validation).
Per part: one batch, each part forward + backward on its own (median of `--reps`): data (one batch from the loader),
backbone, decoders (encoder + both branches), FLAME, losses, optimiser (step + zero_grad), and the whole step.
Wall seconds, with CPU seconds of this process beside them; the machine may be shared, so every line carries the
1-minute load average. Without --data a 256-image SynthHeads set is made once under /tmp/trans3dhead_bench_train.
"""
import argparse, os, sys, time
from dataclasses import fields, is_dataclass, replace
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import torch  # noqa: E402
from trans3dhead.errors import Trans3DHeadError  # noqa: E402,F401  (before fastai: its warnings filter)
from fastai.callback.core import Callback, CancelFitException  # noqa: E402
from fastai.optimizer import Adam  # noqa: E402
from trans3dhead.data import get_dls  # noqa: E402
from trans3dhead.decoder import sine_pos_embed  # noqa: E402
from trans3dhead.demo import synth_data  # noqa: E402
from trans3dhead.fastdata import fast_dls  # noqa: E402
from trans3dhead.learner import get_learner, fit_schedule  # noqa: E402
from trans3dhead.recipe import RECIPES, Recipe  # noqa: E402

GOAL = 60.0   # img/s, issue #10
FASTAI_ADAM = partial(Adam, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0., decouple_wd=False)   # `paper_adam` before


def load() -> float: return os.getloadavg()[0]


class StepTimer(Callback):
    "Time `steps` training batches after `warm` ones (wall and process CPU seconds), then stop the fit."
    order = 99
    def __init__(self, warm: int, steps: int): self.warm, self.steps = warm, steps
    def before_batch(self):
        if self.training and self.iter == self.warm: self.t0, self.c0 = time.perf_counter(), time.process_time()
    def after_batch(self):
        if self.training and self.iter == self.warm + self.steps - 1:
            self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
            raise CancelFitException()


def build(variant: str, data, s: Recipe):
    "A learner for `variant` ('before' or 'after') by the recipe `s`; -> (learn, seconds spent filling the cache)."
    t, fill = time.perf_counter(), 0.
    if variant == 'after':
        dls = fast_dls(data, bs=s.bs, crop_size=s.crop_size)
        for dl in dls.loaders: dl.dataset.fill()
        fill = time.perf_counter() - t
    else: dls = get_dls(data, bs=s.bs, crop_size=s.crop_size, num_workers=2)
    learn = get_learner(dls, s.model_config(), lr=s.lr, schedule=s.schedule, z5=False, chamfer=False, precision='fp32')
    if variant == 'before': learn.opt_func = FASTAI_ADAM
    return learn, fill


def end_to_end(learn, steps: int, warm: int = 2) -> tuple[float, float]:
    "Training images per second over `steps` batches of a fastai fit, and CPU seconds per step."
    n = len(learn.dls.train)
    if warm + steps > n: sys.exit(f"bench_train: --steps {steps} + {warm} warm-up > {n} batches per epoch; more data")
    timer = StepTimer(warm, steps)
    with learn.no_bar(), learn.no_logging(): fit_schedule(learn, 1, cbs=[timer])
    return steps * learn.dls.bs / timer.wall, timer.cpu / steps


def timed(f, reps: int) -> tuple[float, float]:
    "Median wall and CPU seconds of `f()` over `reps` calls after one warm-up call."
    f()
    ws, cs = [], []
    for _ in range(reps):
        w, c = time.perf_counter(), time.process_time()
        f()
        ws.append(time.perf_counter() - w)
        cs.append(time.process_time() - c)
    return sorted(ws)[reps // 2], sorted(cs)[reps // 2]


def leaves(o):
    "Copy of a model output with every float tensor detached into a leaf that requires grad (to time the loss alone)."
    if isinstance(o, torch.Tensor): return o.detach().requires_grad_() if o.is_floating_point() else o
    if is_dataclass(o): return replace(o, **{f.name: leaves(getattr(o, f.name)) for f in fields(o) if f.init})
    return o


def parts(learn, reps: int) -> dict:
    "{part: (wall s, CPU s)} for one training batch, each part forward + backward on its own."
    m, loss, it = learn.model.train(), learn.loss_func, iter(learn.dls.train)
    b = next(it)
    out = {'data (1 batch)': timed(lambda: next(it), reps)}
    x = b['image']
    out['backbone'] = timed(lambda: m.backbone(x).sum().backward(), reps)
    mem = m.backbone(x).detach()
    B, d, h, w = mem.shape
    pos, seq = sine_pos_embed(h, w, d), mem.flatten(2).transpose(1, 2).contiguous().requires_grad_()
    def decoders():
        s = m.encoder(seq, pos)
        (m.param_branch(s, pos).sum() + m.landmark_branch(s, pos)[0].sum()).backward()
    out['decoders'] = timed(decoders, reps)
    params = m.param_branch(m.encoder(seq, pos), pos)[-1].detach().requires_grad_()
    def flame():
        f = m.flame(params)
        (f.vertices.sum() + f.projected.sum() + f.euler.sum()).backward()
    out['FLAME'] = timed(flame, reps)
    pred = leaves(m(x))
    out['losses'] = timed(lambda: loss(pred, b).backward(), reps)
    if learn.opt is None: learn.create_opt()
    loss(m(x), b).backward()
    out['optimiser'] = timed(lambda: (learn.opt.step(), learn.opt.zero_grad()), reps)
    def step():
        loss(m(x), b).backward()
        learn.opt.step()
        learn.opt.zero_grad()
    out['whole step (no data)'] = timed(step, reps)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', help='DAD-3DHeads-format folder (default: a 256-image SynthHeads set, made once)')
    ap.add_argument('--steps', type=int, default=12)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--variants', nargs='+', default=['before', 'after'], choices=['before', 'after'])
    ap.add_argument('--repeat', type=int, default=1, help='measure the variants this many times, interleaved')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    s = RECIPES['main']
    data = Path(a.data) if a.data else synth_data('/tmp/trans3dhead_bench_train', replace(s, n_train=256, n_val=16, n_test=16))
    print(f"{s.backbone}, {s.crop_size}² crops, d = {s.d_model}, batch {s.bs}, {a.threads} threads, data {data}")
    rows = []
    for r in range(a.repeat):
        for v in a.variants:
            learn, fill = build(v, data, s)
            la = load()
            ips, cpu = end_to_end(learn, a.steps)
            rows.append((v, ips, cpu, la, load(), fill, parts(learn, a.reps), load()))
    print('\n| variant | img/s end to end | CPU s/step | load avg (start, end) | cache fill (once) |\n|---|---|---|---|---|')
    for v, ips, cpu, l0, l1, fill, _, _ in rows:
        print(f'| {v} | {ips:.1f} | {cpu:.2f} | {l0:.2f}, {l1:.2f} | {fill:.1f} s |' if v == 'after' else
              f'| {v} | {ips:.1f} | {cpu:.2f} | {l0:.2f}, {l1:.2f} | - |')
    print('\n| part, ms per step (wall / CPU) | ' + ' | '.join(f'{v} (load {l:.2f})' for v, *_, l in rows) + ' |')
    print('|---|' + '---|' * len(rows))
    for name in rows[0][6]:
        print(f'| {name} | ' + ' | '.join(f'{1e3 * r[6][name][0]:.0f} / {1e3 * r[6][name][1]:.0f}' for r in rows) + ' |')
    best = max((ips for v, ips, *_ in rows if v == 'after'), default=None)
    if best is not None:
        print(f"\ngoal >= {GOAL:.0f} img/s end to end: 'after' reaches {best:.1f} img/s -> "
              f"{'met' if best >= GOAL else 'NOT met'} (load average {load():.2f} on {os.cpu_count()} cores)")


if __name__ == '__main__':
    main()
