"""Train the model the package ships (`trans3dhead/assets/pretrained/`): the recipe `RECIPES['shipped']` (the `lean`
preset with ImageNet-initialised MobileNetV2, on SynthHeads, for a budget of CPU time; `trans3dhead.recipe`), the flags
changing its sizes; store it in float16; score the stored model on the SynthHeads test split and on the real-photo
check set; write what was measured into its `card.json` (nbs/15c_pretrained renders it).

    python tests/benchmarks/train_pretrained.py --work /tmp/pretrained --minutes 40 --n_train 4000 [--install]
    python tests/benchmarks/train_pretrained.py --work /tmp/pretrained --resume    # go on after a stop (same flags)

A long run survives restarts: `<work>/run/last.pth` is written after every epoch and the budget spent beside it
(`recipe.BUDGET_FILE`); --resume continues both, so a budget of hours can be spent over several sessions. Budgets are
on --clock ('cpu': the process's CPU time ÷ its threads, unaffected by other jobs; 'wall').

Needs `trans3dhead_weights mobilenet_v2` first (the ImageNet file). --install replaces trans3dhead/assets/pretrained
with the new model folder (written next to it, then renamed: never half-written).
"""
import argparse, json, os, platform, shutil, time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # idle threads sleep: the CPU clock counts work, not spinning
import torch
from trans3dhead.checkpoint import atomic_torch_save, export_model, load_model, load_model_state
from trans3dhead.checkset import load_checkset, score_checkset
from trans3dhead.default_head import default_head_dir
from trans3dhead.demo import score, synth_data
from trans3dhead.files import atomic_write_text
from trans3dhead.recipe import RECIPES, Recipe, fit_recipe, recipe_learner

ROOT = Path(__file__).resolve().parents[2]
ASSET = ROOT / 'trans3dhead' / 'assets' / 'pretrained'


def to_half(src: Path, dst: Path) -> Path:
    "Copy model folder `src` to `dst` with its floating-point weights stored as float16 (loading casts them back)."
    dst.mkdir(parents=True, exist_ok=True)
    sd = torch.load(src / 'weights.pth', map_location='cpu', weights_only=True)
    atomic_torch_save({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, dst / 'weights.pth')
    for f in ('config.json', 'mean_face.npy'): shutil.copy2(src / f, dst / f)
    return dst


def install(model_dir: Path, target: Path = ASSET):
    "Replace `target` by a copy of `model_dir`: copied next to it first, then swapped by renames."
    tmp, old = target.with_name(target.name + '.new'), target.with_name(target.name + '.old')
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(model_dir, tmp)
    if target.exists(): os.rename(target, old)
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def train(r: Recipe, data: Path, work: Path, flame_dir: Path, init=None, workers: int = 2, resume: bool = False,
          name: str = 'shipped') -> Path:
    """Train recipe `r` on `data` (from the model folder `init` if given, or on from `<work>/run/last.pth` if
    `resume`); the fp16 model folder, its card holding the training facts. The time budget ends training (`r.epochs`
    is out of reach), the schedule follows it."""
    cached = r.n_train <= 4000                   # decoded once, in this process (as bench_learning measures recipes)
    learn = recipe_learner(r, data, work / 'run', flame_dir, cached=cached, workers=0 if cached else workers)
    if init and not resume: load_model_state(learn.model, torch.load(Path(init) / 'weights.pth', weights_only=True), init)
    budget = fit_recipe(learn, r, resume=work / 'run' / 'last.pth' if resume else None)
    model_dir = to_half(export_model(learn, work / 'model32'), work / 'model')
    card = dict(recipe=name, preset=r.preset, config=asdict(learn.cfg), flame=f"embedded default head ({flame_dir.name})",
                lr=r.lr, bs=r.bs, schedule=r.schedule,
                init=json.loads((Path(init) / 'card.json').read_text()) if init else None,
                data=dict(kind='SynthHeads', n_train=r.n_train, n_test=r.n_test, seed=r.seed),
                budget_minutes=r.minutes, clock=r.clock, spent_min=round(budget.spent / 60, 1),
                epochs=learn.epoch + 1, images_seen=(learn.epoch * len(learn.dls.train) + learn.iter + 1) * r.bs,
                trained=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
                machine=f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                        f"{'cuda' if torch.cuda.is_available() else 'cpu'}")
    atomic_write_text(model_dir / 'card.json', json.dumps(card, indent=1))
    return model_dir


def measure(model_dir: Path, data: Path, work: Path, flame_dir: Path) -> dict:
    "Score the stored (fp16) model on the SynthHeads test split and the check set; add the numbers to its card."
    model = load_model(model_dir, flame_dir=flame_dir)
    test = score(model, data, 'test_gt', work / 'submission.json', 'pretrained').iloc[0].to_dict()
    check = score_checkset(model, load_checkset(), flame_dir=flame_dir)
    card = json.loads((model_dir / 'card.json').read_text())
    card.update(synthheads_test={k: float(v) for k, v in test.items()}, checkset_nme=float(check['nme']),
                checkset_groups=check['groups'],
                checkset_faces=len(check['per_face']),
                weights_mb=round((model_dir / 'weights.pth').stat().st_size / 2**20, 2))
    atomic_write_text(model_dir / 'card.json', json.dumps(card, indent=1))
    return card


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--recipe', default='shipped', choices=list(RECIPES), help='trans3dhead.recipe.RECIPES entry')
    r = RECIPES[ap.parse_known_args()[0].recipe]
    ap.add_argument('--work', default='/tmp/pretrained', help='data, run and model folders go here')
    ap.add_argument('--minutes', type=float, default=r.minutes)
    ap.add_argument('--n_train', type=int, default=r.n_train)
    ap.add_argument('--n_test', type=int, default=r.n_test, help='SynthHeads validation and test images each')
    ap.add_argument('--bs', type=int, default=r.bs)
    ap.add_argument('--lr', type=float, default=r.lr)
    ap.add_argument('--seed', type=int, default=r.seed)
    ap.add_argument('--clock', default=r.clock, choices=['cpu', 'wall'], help='what the budget --minutes counts')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--resume', action='store_true', help='go on from <work>/run/last.pth and the budget it spent')
    ap.add_argument('--init', help='start from this model folder (a further run: its card is kept in the new card)')
    ap.add_argument('--rescore', action='store_true', help="only re-measure <work>/model (e.g. after predict changed)")
    ap.add_argument('--install', action='store_true', help='copy the result into trans3dhead/assets/pretrained')
    a = ap.parse_args()
    r = replace(r, minutes=a.minutes, n_train=a.n_train, n_val=a.n_test, n_test=a.n_test, bs=a.bs, lr=a.lr, seed=a.seed,
                clock=a.clock)
    work, flame_dir = Path(a.work), default_head_dir()       # the FLAME that load_pretrained will use
    torch.manual_seed(r.seed)
    data = synth_data(work / 'synthheads', r, a.workers)
    model_dir = work / 'model' if a.rescore else train(r, data, work, flame_dir, a.init, a.workers, a.resume, a.recipe)
    card = measure(model_dir, data, work, flame_dir)
    print(json.dumps({k: v for k, v in card.items() if k != 'config'}, indent=1))
    if a.install:
        install(model_dir)
        print('installed ->', ASSET)


if __name__ == '__main__':
    main()
