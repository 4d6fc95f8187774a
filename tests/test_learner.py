"""Training end to end in real processes: a run killed with SIGKILL after an epoch's checkpoint resumes at the right
epoch, with the saved optimiser state, and ends with the same weights as an uninterrupted run."""
import json, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch

EPOCHS = 4

@pytest.fixture(scope='module')
def fixture(tmp_path_factory, tiny_flame_dir, tiny_data, console_script):
    tmp = tmp_path_factory.mktemp('learner')
    console_script(tmp / 'train.py', 'trans3dhead_train')
    return tmp, tiny_flame_dir, tiny_data

def _cmd(tmp, fdir, root, out, *extra):
    return [sys.executable, str(tmp / 'train.py'), '--data', str(root), '--out', str(out), '--epochs', str(EPOCHS),
            '--bs', '2', '--workers', '0', '--backbone', 'resnet18', '--no_pretrained', '--fast_metrics',
            '--flame_dir', str(fdir), '--seed', '3', *extra]

def _epoch(ck: Path):
    try: return torch.load(ck, weights_only=True)['epoch']
    except Exception: return None

def test_kill_and_resume(fixture):
    tmp, fdir, root = fixture
    out = tmp / 'killed'
    p = subprocess.Popen(_cmd(tmp, fdir, root, out), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    t0 = time.time()
    while _epoch(out / 'last.pth') is None:
        assert p.poll() is None, p.stdout.read().decode()[-3000:]
        assert time.time() - t0 < 600, 'no checkpoint after 10 minutes'
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    saved = torch.load(out / 'last.pth', weights_only=True)
    k = saved['epoch']
    assert 1 <= k < EPOCHS, f'killed too late (checkpoint of epoch {k})'

    # the optimiser state a resumed learner starts with is the saved one
    from trans3dhead.learner import get_learner
    from trans3dhead.checkpoint import load_checkpoint, opt_state
    from trans3dhead.data import get_dls, get_flame
    from trans3dhead.model import ModelConfig
    dls = get_dls(root, bs=2, num_workers=0, flame=get_flame(fdir))
    learn = get_learner(dls, ModelConfig(**saved['config']), mean_face=saved['mean_face'].numpy(), flame_dir=fdir,
                        z5=False, chamfer=False)
    assert load_checkpoint(learn, out / 'last.pth') == k
    st = opt_state(learn.opt)
    assert len(st['state']) == len(saved['opt']['state'])
    for a, b in zip(st['state'], saved['opt']['state']):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], torch.Tensor): assert torch.equal(a[key], b[key]), key
            else: assert a[key] == b[key], key

    # resume in a new process: it runs epochs k..EPOCHS-1 only
    r = subprocess.run(_cmd(tmp, fdir, root, out, '--resume'), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert _epoch(out / 'last.pth') == EPOCHS
    rows = [json.loads(l) for l in (out / 'loss_terms.jsonl').read_text().splitlines()]
    assert [row['epoch'] for row in rows] == list(range(EPOCHS))
    assert (out / 'model' / 'weights.pth').is_file()

    # an uninterrupted run with the same seed ends with the same weights
    ref = tmp / 'reference'
    r = subprocess.run(_cmd(tmp, fdir, root, ref), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    a, b = torch.load(out / 'last.pth', weights_only=True), torch.load(ref / 'last.pth', weights_only=True)
    for key in a['model']:
        assert torch.allclose(a['model'][key].float(), b['model'][key].float(), atol=1e-5), key

def test_cli_errors(fixture, tmp_path):
    tmp, fdir, root = fixture
    r = subprocess.run([sys.executable, str(tmp / 'train.py'), '--data', str(tmp_path / 'missing'), '--flame', str(fdir)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and 'trans3dhead_train: error:' in r.stderr and 'no such folder' in r.stderr, r.stderr[-2000:]
    assert '--flame is deprecated' in r.stderr                      # the flag's former name still works
    r = subprocess.run([sys.executable, str(tmp / 'train.py')], capture_output=True, text=True)
    assert r.returncode != 0 and '--data is required' in r.stderr
    r = subprocess.run([sys.executable, str(tmp / 'train.py'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--resume' in r.stdout
