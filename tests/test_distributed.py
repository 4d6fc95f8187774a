"""Data-parallel training with two CPU processes (gloo) launched by torchrun: both ranks finish, rank 0 writes the
checkpoint, and after training on different shards the two ranks hold the same parameters (the gradients were
averaged), which are the ones rank 0 exported.

(A single process on the same global batch is not expected to match exactly: on the CPU each rank's BatchNorm
normalises with its own shard's statistics.)"""
import os, subprocess, sys
import torch

# trans3dhead_train with each rank's parameters before and after the fit, and the sums of the training batches it saw,
# saved to <out>/rank<R>.pth
HOOK = """import os, torch
import trans3dhead.learner as learner
from fastai.callback.core import Callback
from trans3dhead.distributed import bare_model

class Record(Callback):
    "Each training batch's input sum on this rank."
    def before_fit(self): self.sums = []
    def before_batch(self):
        if self.training: self.sums.append(float(self.xb[0].double().sum()))

def params(learn): return {k: v.detach().clone() for k, v in bare_model(learn.model).named_parameters()}

def fit_and_record(learn, *args, **kwargs):
    before, rec = params(learn), Record()
    learn.add_cb(rec)
    learn = fit_schedule(learn, *args, **kwargs)
    torch.save(dict(before=before, after=params(learn), batches=rec.sums),
               learn.path / f"rank{os.environ['RANK']}.pth")
    return learn

fit_schedule, learner.fit_schedule = learner.fit_schedule, fit_and_record
"""
# one os.write of a short line to the shared pipe is atomic: the two ranks' lines cannot interleave (print's may)
DONE = "os.write(1, f\"RANK {os.environ.get('RANK')} WORLD {os.environ.get('WORLD_SIZE')} finished\\n\".encode())"


def test_two_processes(tmp_path, tiny_flame_dir, tiny_data, console_script):
    script = console_script(tmp_path / 'train.py', 'trans3dhead_train', before=HOOK, after=DONE)
    out = tmp_path / 'run'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
           str(script), '--data', str(tiny_data), '--out', str(out), '--epochs', '1', '--bs', '2', '--workers', '0',
           '--backbone', 'resnet18', '--no_pretrained', '--fast_metrics', '--flame', str(tiny_flame_dir)]
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    assert 'RANK 0 WORLD 2 finished' in log and 'RANK 1 WORLD 2 finished' in log, log[-4000:]
    ck = torch.load(out / 'last.pth', weights_only=True)
    assert ck['epoch'] == 1
    assert (out / 'model' / 'weights.pth').is_file()

    ranks = [torch.load(out / f'rank{r}.pth', weights_only=True) for r in (0, 1)]
    assert len(ranks[0]['batches']) == len(ranks[1]['batches']) == 1               # 4 items, 2 per rank, one step
    assert ranks[0]['batches'] != ranks[1]['batches']                               # each rank its own shard
    before, after = ranks[0]['before'], [rk['after'] for rk in ranks]
    assert all(torch.equal(before[k], ranks[1]['before'][k]) for k in before)       # same start
    assert sum(not torch.equal(before[k], after[0][k]) for k in before) > len(before) / 2   # a step was taken
    unequal = [k for k in before if not torch.equal(after[0][k], after[1][k])]
    assert unequal == [], f'ranks differ after the step in {len(unequal)} tensors, e.g. {unequal[:3]}'
    exported = torch.load(out / 'model' / 'weights.pth', weights_only=True)
    assert all(torch.equal(exported[k], after[0][k]) for k in after[0])
