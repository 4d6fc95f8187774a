"""End-to-end checks of the full-size networks (ResNet-50, 413 parameters, the FLAME folder the package finds)."""
import pytest
import torch
from trans3dhead.model import preset, build_model, ModelConfig
from trans3dhead.baseline import build_baseline


@pytest.fixture(scope='module')
def flame():
    from trans3dhead.flame import FlameLayer, PARAM_LAYOUTS
    return FlameLayer(None, PARAM_LAYOUTS[413])


def test_trans3dhead_full_size(flame):
    torch.manual_seed(0)
    m = build_model(preset('trans3dhead', pretrained=False), flame=flame)
    x = torch.randn(2, 3, 256, 256)
    out = m(x)
    assert out.params.shape == (2, 413) and out.landmarks_layers.shape == (2, 2, 68, 2)
    assert m.backbone(x).shape == (2, 256, 8, 8)                     # 8×8 memory at stride 32
    (out.flame.projected.mean() + out.landmarks.mean()).backward()
    assert m.backbone.body[0].weight.grad.abs().sum() > 0
    # at init: frontal and inside the crop
    assert out.flame.euler.abs().max() < 10
    p = out.flame.projected[:, flame.head_idx]
    assert p.min() > 0 and p.max() < 256


def test_default_mean_face_is_initial_head(flame):
    "Without a data-set mean face, MARR starts from the 68 landmarks of the initial head, which lie inside the crop."
    m = build_model(preset('trans3dhead', backbone='resnet18', pretrained=False), flame=flame).eval()
    mf = m.landmark_branch.regress.mean_face
    assert mf.shape == (68, 2) and mf.abs().max() < 1 and mf.std(0).min() > 0.1
    assert mf[8, 1] > mf[30, 1] > mf[19, 1]          # chin below nose tip below brow (y down)


def test_baseline_full_size(flame):
    m = build_baseline(ModelConfig(pretrained=False), flame=flame).eval()
    with torch.no_grad(): out = m(torch.randn(1, 3, 256, 256))
    assert out.heatmaps.shape == (1, 68, 64, 64) and out.params.shape == (1, 413)


def test_lean_preset_trains_with_a_recipe(tmp_path):
    "`preset('lean')` through the normal learner (`Recipe` -> `recipe_learner` -> `fit_recipe`): one epoch moves it."
    from trans3dhead.data import get_flame
    from trans3dhead.testing import make_tiny_flame, make_dad_fixture
    from trans3dhead.recipe import Recipe, recipe_learner, fit_recipe
    fdir = make_tiny_flame(tmp_path / 'flame')
    root = make_dad_fixture(tmp_path / 'data', get_flame(fdir), n_train=4, n_val=2, n_test=0)
    r = Recipe(preset='lean', backbone='mobilenet_v2', crop_size=128, d_model=64, epochs=1, bs=2, minutes=float('inf'))
    cfg = r.model_config()
    assert (cfg.backbone_stride, cfg.n_params, cfg.nheads, cfg.crop_size) == (16, 133, 2, 128)
    torch.manual_seed(0)
    learn = recipe_learner(r, root, flame_dir=fdir, workers=0)
    before = learn.model.param_branch.head.weight.detach().clone()
    fit_recipe(learn, r)
    assert torch.isfinite(torch.tensor(learn.recorder.losses)).all()
    assert not torch.equal(before, learn.model.param_branch.head.weight)
    assert learn.model.memory(torch.zeros(1, 3, 128, 128))[0].shape == (1, 64, 64)       # 8×8 cells at stride 16
