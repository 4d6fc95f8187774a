"""Data-parallel training with two CPU processes (gloo) launched by torchrun: both ranks finish, rank 0 writes the
checkpoint."""
import subprocess, sys
import torch

SCRIPT = ("import os\nfrom trans3dhead.learner import main\nmain()\n"
          "print('RANK', os.environ.get('RANK'), 'WORLD', os.environ.get('WORLD_SIZE'), 'finished', flush=True)\n")

def test_two_processes(tmp_path):
    from trans3dhead.testing import make_tiny_flame
    from trans3dhead.data import get_flame
    from trans3dhead.testing import make_dad_fixture
    fdir = make_tiny_flame(tmp_path / 'flame')
    root = make_dad_fixture(tmp_path / 'data', get_flame(fdir), n_train=4, n_val=2, n_test=0)
    (tmp_path / 'train.py').write_text(SCRIPT)
    out = tmp_path / 'run'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
           str(tmp_path / 'train.py'), '--data', str(root), '--out', str(out), '--epochs', '1', '--bs', '2',
           '--workers', '0', '--backbone', 'resnet18', '--no_pretrained', '--fast_metrics', '--flame', str(fdir)]
    env = dict(__import__('os').environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    assert 'RANK 0 WORLD 2 finished' in log and 'RANK 1 WORLD 2 finished' in log, log[-4000:]
    ck = torch.load(out / 'last.pth', weights_only=True)
    assert ck['epoch'] == 1
    assert (out / 'model' / 'weights.pth').is_file()
