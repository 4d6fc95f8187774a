"""Train the model the package ships (`trans3dhead/assets/pretrained/`): the `mobile` preset with ImageNet-initialised
MobileNetV2, on SynthHeads, for a wall-clock budget; store it in float16; score the stored model on the SynthHeads test
split and on the real-photo check set; write what was measured into its `card.json` (nbs/15c_pretrained renders it).

    python tests/benchmarks/train_pretrained.py --work /tmp/pretrained --minutes 40 --n_train 4000 [--install]

Needs `trans3dhead_weights mobilenet_v2` first (the ImageNet file). --install replaces trans3dhead/assets/pretrained
with the new model folder (written next to it, then renamed: never half-written).
"""
import argparse, json, os, platform, shutil, time
from dataclasses import asdict
from pathlib import Path

import torch
from trans3dhead.checkpoint import atomic_torch_save, export_model, load_model, load_model_state
from trans3dhead.checkset import load_checkset, score_checkset
from trans3dhead.data import get_dls
from trans3dhead.default_head import default_head_dir
from trans3dhead.demo import DemoSettings, TimeBudget, score, synth_data
from trans3dhead.files import atomic_write_text
from trans3dhead.learner import fit_schedule, get_learner
from trans3dhead.model import preset

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


def train(a, data: Path, work: Path, flame_dir: Path) -> Path:
    "Train the `mobile` preset on `data` for `a.minutes`; the fp16 model folder, its card holding the training facts."
    cfg = preset('mobile')
    dls = get_dls(data, bs=a.bs, crop_size=cfg.crop_size, num_workers=a.workers, flame_dir=flame_dir)
    learn = get_learner(dls, cfg, flame_dir=flame_dir, lr=a.lr, schedule='one_cycle', z5=False, chamfer=False,
                        ckpt_dir=work / 'run', path=work / 'run')
    if a.init: load_model_state(learn.model, torch.load(Path(a.init) / 'weights.pth', weights_only=True), a.init)
    t0, budget = time.time(), TimeBudget(a.minutes)
    fit_schedule(learn, 10_000, cbs=[budget])                  # the time budget ends training, the schedule follows it
    model_dir = to_half(export_model(learn, work / 'model32'), work / 'model')
    card = dict(preset='mobile', config=asdict(cfg), flame=f"embedded default head ({flame_dir.name})",
                lr=a.lr, bs=a.bs, schedule='one_cycle',
                init=json.loads((Path(a.init) / 'card.json').read_text()) if a.init else None,
                data=dict(kind='SynthHeads', n_train=a.n_train, n_test=a.n_test, seed=a.seed),
                budget_minutes=a.minutes, wall_s=round(time.time() - t0), epochs=learn.epoch + 1,
                images_seen=learn.train_iter * a.bs, trained=time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
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
                checkset_faces=len(check['per_face']),
                weights_mb=round((model_dir / 'weights.pth').stat().st_size / 2**20, 2))
    atomic_write_text(model_dir / 'card.json', json.dumps(card, indent=1))
    return card


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--work', default='/tmp/pretrained', help='data, run and model folders go here')
    ap.add_argument('--minutes', type=float, default=40.)
    ap.add_argument('--n_train', type=int, default=4000)
    ap.add_argument('--n_test', type=int, default=200)
    ap.add_argument('--bs', type=int, default=32)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--init', help='start from this model folder (a further run: its card is kept in the new card)')
    ap.add_argument('--rescore', action='store_true', help="only re-measure <work>/model (e.g. after predict changed)")
    ap.add_argument('--install', action='store_true', help='copy the result into trans3dhead/assets/pretrained')
    a = ap.parse_args()
    work, flame_dir = Path(a.work), default_head_dir()       # the FLAME that load_pretrained will use
    torch.manual_seed(a.seed)
    data = synth_data(work / 'synthheads', DemoSettings(n_train=a.n_train, n_val=a.n_test, n_test=a.n_test,
                                                        seed=a.seed), a.workers)
    model_dir = work / 'model' if a.rescore else train(a, data, work, flame_dir)
    card = measure(model_dir, data, work, flame_dir)
    print(json.dumps({k: v for k, v in card.items() if k != 'config'}, indent=1))
    if a.install:
        install(model_dir)
        print('installed ->', ASSET)


if __name__ == '__main__':
    main()
