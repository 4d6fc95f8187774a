"""Learning per CPU-second: what each training recipe reaches on SynthHeads' test split (NME, pose error) and on the
real-photo check set (NME against dlib) after 10, 30 and 60 minutes on two cores. nbs/21_learning.ipynb shows the
table and the curves.

    python tests/benchmarks/bench_learning.py [--plan default] [--recipes NAME ...] [--budgets 10 30 60] [--seeds 0]

Budget: minutes on the 'cpu' clock of `trans3dhead.recipe.CLOCKS` (CPU seconds of the process and its finished
children ÷ torch's threads, 2 here): on an idle machine that is the wall time with both cores busy, and a machine
shared with other jobs measures the same learning. Each (recipe, budget, seed) is one run from scratch: the one-cycle
schedule follows the budget, so a 10-minute run is annealed at 10 minutes. A row is appended to
nbs/benchmarks/learning.jsonl when a run ends; runs already there are skipped, so rerunning resumes the plan.
SynthHeads is rendered once per data settings under --work; its render time is recorded, not budgeted.
"""
import argparse, json, os, platform, sys, time
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # idle threads sleep: CPU time is work done, not spinning
import torch  # noqa: E402
from trans3dhead.errors import Trans3DHeadError  # noqa: E402,F401  (before fastai: its warnings filter)
from fastai.callback.core import Callback  # noqa: E402
from fastai.torch_core import set_seed  # noqa: E402
from trans3dhead.backbones import fetch_weights  # noqa: E402
from trans3dhead.checkset import load_checkset, score_checkset  # noqa: E402
from trans3dhead.demo import synth_data  # noqa: E402
from trans3dhead.recipe import RECIPES, Recipe, cpu_clock, fit_recipe, recipe_learner  # noqa: E402
from trans3dhead.study import append_row, read_results, score_run  # noqa: E402

OUT = ROOT / 'nbs' / 'benchmarks' / 'learning.jsonl'
BEFORE = Recipe(backbone='resnet18', pretrained=False, crop_size=96, d_model=64, epochs=10_000, clock='cpu')
IMAGENET = replace(BEFORE, backbone='mobilenet_v2', pretrained=True)
assert RECIPES['main'] == replace(IMAGENET, n_params=133, crop_size=128, nheads=4, epochs=100, clock='wall')  # kept


class FreezeStem(Callback):
    "Keep the backbone's first `n` body blocks at their ImageNet weights (no gradient, BatchNorm in eval mode)."
    order = 1
    def __init__(self, n: int): self.n = n
    def before_fit(self):
        self.frozen = self.learn.model.backbone.body[:self.n]
        for p in self.frozen.parameters(): p.requires_grad_(False)
    def before_train(self): self.frozen.eval()


class PoseFirst(Callback):
    "Euler term ×`k` for the first `until` of the fit, falling linearly to ×1 by twice that: pose is learned early."
    order = 1
    def __init__(self, k: float = 10., until: float = 0.3): self.k, self.until = k, until
    def before_fit(self): self.w = self.learn.loss_func.loss.weights
    def before_batch(self):
        if not self.training: return
        f = min(max((self.pct_train - self.until) / self.until, 0.), 1.)
        self.learn.loss_func.loss.weights = replace(self.w, euler=self.w.euler * (self.k + (1 - self.k) * f))
    def after_fit(self): self.learn.loss_func.loss.weights = self.w


MAIN = replace(RECIPES['main'], epochs=10_000, clock='cpu')
# name: (what it changes, the recipe it changes, its recipe, extra callbacks). Tried one at a time on the best so far:
# the chain before -> imagenet -> queries-133 -> crop-128 -> main is what was kept; the rest are tried on `main`.
RECIPES_TRIED = {
    'before': ("the main job before: ResNet-18 from scratch, 96², 413 parameter queries", None, BEFORE, ()),
    'imagenet': ("MobileNetV2 from ImageNet's weights instead of ResNet-18 from scratch", 'before', IMAGENET, ()),
    'queries-133': ("133 parameter queries (what SynthHeads varies) instead of 413", 'imagenet',
                    replace(IMAGENET, n_params=133), ()),
    'crop-128': ("128² crops (a 4×4 memory, which the study's Table 1 asks for) instead of 96²", 'queries-133',
                 replace(MAIN, nheads=None), ()),
    'main': ("4 attention heads (head dim 16) instead of 8: the main job, RECIPES['main']", 'crop-128', MAIN, ()),
    'lean': ("the `lean` preset (MobileNetV2 cut at stride 16: an 8×8 memory at 128², 2 heads): 19_speed's fast model",
             'main', replace(MAIN, preset='lean', nheads=None), ()),
    'mobile': ("the `mobile` preset (the shipped model's: 192², d_model 128, 413 parameter queries)", 'main',
               replace(MAIN, preset='mobile', crop_size=192, d_model=128, dropout=0.1, nheads=None, n_params=None), ()),
    'crop-160': ("160² crops (a 5×5 memory)", 'main', replace(MAIN, crop_size=160), ()),
    'crop-96': ("96² crops (a 3×3 memory)", 'main', replace(MAIN, crop_size=96), ()),
    'lr-3e-3': ("one-cycle peak lr 3e-3 instead of 1e-3", 'main', replace(MAIN, lr=3e-3), ()),
    'bs-32': ("batch 32 instead of 16", 'main', replace(MAIN, bs=32), ()),
    'pose-first': ("Euler loss ×10 for the first 30 % of the budget, back to ×1 by 60 %", 'main', MAIN,
                   (lambda: PoseFirst(),)),
    'freeze': ("the stem and first two stages frozen at ImageNet's weights", 'main', MAIN, (lambda: FreezeStem(7),)),
    'fresh': ("12,000 rendered images (each seen about once) instead of 1,200", 'main', replace(MAIN, n_train=12_000),
              ()),
}
ORDER = ('main', 'before', 'lean', 'mobile', 'imagenet', 'queries-133', 'crop-128', 'crop-96', 'crop-160', 'lr-3e-3',
         'pose-first', 'freeze', 'bs-32', 'fresh')
PLANS = {   # (recipe, budget) in the order they run
    'default': [(r, 10) for r in ORDER] + [(r, b) for b in (30, 60) for r in ('main', 'before')]
               + [(r, b) for b in (30, 60) for r in ORDER[2:]],
}


def machine() -> str:
    return (f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} "
            f"threads, {'cuda' if torch.cuda.is_available() else 'cpu'}")


def run(name: str, minutes: float, seed: int, work: Path, checkset) -> dict:
    "Train recipe `name` for `minutes` on the CPU clock from seed `seed`, score it: one results row."
    what, parent, recipe, extras = RECIPES_TRIED[name]
    r = replace(recipe, minutes=minutes)
    t0 = time.monotonic()
    data = synth_data(work / f"synthheads-{r.n_train}-{r.n_val}-{r.n_test}-{r.seed}", r)
    render_s = time.monotonic() - t0
    if r.pretrained: fetch_weights(r.backbone)
    set_seed(seed)
    learn = recipe_learner(r, data, cached=r.n_train <= 4000, workers=0)   # 12k decoded images would not fit
    learn.remove_cb(learn.progress)
    t0, c0 = time.monotonic(), cpu_clock()
    fit_recipe(learn, r, cbs=[make() for make in extras])
    wall, cpu = time.monotonic() - t0, cpu_clock() - c0
    learn.model.eval()
    test = score_run(learn.model, data, 'test_gt')
    check = score_checkset(learn.model, checkset)
    return dict(recipe=name, what=what, parent=parent, minutes=minutes, seed=seed, recipe_fields=asdict(r),
                images_seen=learn.train_iter * r.bs, epochs=learn.epoch + 1, cpu_min=cpu / 60, wall_min=wall / 60,
                render_s=round(render_s, 1), test_nme=test['nme'], pose_err=test['pose_err'],
                pose_mae=test['pose_mae'], z5=test['z5'], chamfer=test['chamfer'], n_test=test['n_scored'],
                checkset_nme=check['nme'], checkset_faces=len(check['per_face']), load=os.getloadavg()[0],
                machine=machine(), finished=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--plan', default='default', choices=list(PLANS), help='the ordered (recipe, budget) list')
    ap.add_argument('--recipes', nargs='+', choices=list(RECIPES_TRIED), help='only these recipes of the plan')
    ap.add_argument('--budgets', nargs='+', type=float, help='only these budgets of the plan (minutes)')
    ap.add_argument('--seeds', nargs='+', type=int, default=[0])
    ap.add_argument('--threads', type=int, default=2, help='torch threads (the budget is CPU time ÷ threads)')
    ap.add_argument('--work', default='/tmp/bench_learning', help='SynthHeads are rendered here')
    ap.add_argument('--out', default=str(OUT))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    checkset = load_checkset(download=True)
    plan = [(n, b) for n, b in PLANS[a.plan] if (a.recipes is None or n in a.recipes)
            and (a.budgets is None or b in a.budgets)]
    for name, minutes in plan:
        for seed in a.seeds:
            if any((r['recipe'], r['minutes'], r['seed']) == (name, minutes, seed) for r in read_results(a.out)):
                continue
            print(f"== {name}, {minutes:g} min, seed {seed}: {RECIPES_TRIED[name][0]}", flush=True)
            row = run(name, minutes, seed, Path(a.work), checkset)
            append_row(a.out, row)
            print(json.dumps({k: v for k, v in row.items() if k != 'recipe_fields'}), flush=True)


if __name__ == '__main__':
    main()
