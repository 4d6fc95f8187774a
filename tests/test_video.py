"""Video prediction: One Euro smoothing halves the jitter of noisy predictions on a rendered clip with smooth motion
and lags it by at most one frame; the console script on a clip end to end; bad videos; atomic outputs."""
import csv, json, subprocess, sys
import av, numpy as np, pytest

N = 8                                                                            # frames through the real pipeline

@pytest.fixture(scope='module')
def setup(tmp_path_factory, tiny_flame_dir, tiny_model, console_script):
    from trans3dhead.smoothing import synth_head_clip, sinusoid_poses
    from trans3dhead.video import write_video
    tmp = tmp_path_factory.mktemp('video')
    clip = synth_head_clip(sinusoid_poses(60), size=128, flame_dir=tiny_flame_dir)  # 60 frames, 128², 30 fps
    console_script(tmp / 'predict.py', 'trans3dhead_predict')
    src = write_video(tmp / 'clip.mp4', clip['frames'][:N], fps=30)            # the model runs ~1-3 s a frame on CPU
    return tmp, tiny_flame_dir, clip, tiny_model, src

def run(tmp, *args):
    return subprocess.run([sys.executable, str(tmp / 'predict.py'), *map(str, args)], capture_output=True, text=True,
                          timeout=600)

@pytest.mark.parametrize('seed', [6, 7, 8])   # the notebook checks seeds 0-5
def test_jitter_halved_lag_under_one_frame(setup, seed):
    from trans3dhead.smoothing import simulate_predictions, smoothing_report
    from trans3dhead.video import PoseSmoother
    tmp, fdir, clip, mdir, src = setup
    r = smoothing_report(clip, simulate_predictions(clip, seed=seed), PoseSmoother())
    assert r['jitter_smooth'] <= 0.5 * r['jitter_raw'], r
    assert r['lag_smooth'] <= 1. and abs(r['lag_raw']) < 0.2, r
    assert r['yaw_jitter_smooth'] <= 0.5 * r['yaw_jitter_raw'] and r['yaw_lag_smooth'] <= 1., r

@pytest.fixture(scope='module')
def cli_out(setup):
    "The console script on the clip (smoothed, drawn): its output folder."
    tmp, fdir, clip, mdir, src = setup
    r = run(tmp, src, '--model', mdir, '--flame_dir', fdir, '--out', tmp / 'out')
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    return tmp / 'out'

def test_cli_on_a_clip(setup, cli_out):
    from trans3dhead.video import video_frames, write_video
    from trans3dhead.inference import CSV_COLUMNS
    tmp, fdir, clip, mdir, src = setup
    out = cli_out
    res = json.loads((out / 'clip.json').read_text())
    assert res['n_frames'] == N and res['frame_size'] == [128, 128] and res['fps'] == pytest.approx(30)
    assert [f['frame'] for f in res['frames']] == list(range(N))
    assert np.allclose([f['time'] for f in res['frames']], np.arange(N) / 30, atol=1e-4)
    f = res['frames'][7]
    assert np.array(f['landmarks']).shape == (68, 2) and np.array(f['rotation']).shape == (3, 3)
    assert len(f['box']) == 4 and len(f['euler_yaw_pitch_roll_deg']) == 3
    assert res['frames'][0]['tracking'] == 'detect' and all(x['tracking'] in ('track', 'detect') or
                                                           x['tracking'].startswith('detect (') for x in res['frames'])
    rows = list(csv.reader((out / 'clip.csv').open()))
    assert rows[0] == CSV_COLUMNS and len(rows) == N + 1 and all(len(x) == len(CSV_COLUMNS) for x in rows)
    assert float(rows[8][CSV_COLUMNS.index('x30')]) == pytest.approx(f['landmarks'][30][0], abs=1e-3)
    assert len(list(video_frames(out / 'clip_annotated.mp4'))) == N
    assert not list(out.glob('.*.tmp'))
    # --no_smooth and --no_draw (3 frames)
    short = write_video(tmp / 'short.mp4', clip['frames'][:3], fps=30)
    r = run(tmp, short, '--model', mdir, '--flame_dir', fdir, '--out', tmp / 'raw', '--no_smooth', '--no_draw')
    assert r.returncode == 0, r.stderr[-3000:]
    raw = json.loads((tmp / 'raw' / 'short.json').read_text())
    assert raw['smoothing'] is None and raw['n_frames'] == 3 and sorted(p.name for p in (tmp / 'raw').iterdir()) == [
        'short.csv', 'short.json']

def test_tracking_and_smoothing(setup, cli_out):
    from trans3dhead.inference import predict_video
    from trans3dhead.video import track_box
    from trans3dhead.checkpoint import load_model
    tmp, fdir, clip, mdir, src = setup
    model = load_model(mdir, flame_dir=fdir)
    vp = predict_video(src, model, detector=None, smooth=False)
    head_idx = model.flame.head_idx.cpu().numpy()
    assert len(vp.faces) == N and all(a is b for a, b in zip(vp.raw, vp.faces))
    assert np.allclose(vp.raw[0].box, [0, 0, 128, 128])                           # no detector: the whole frame
    # the CLI's smoothed landmarks start at the raw ones (same detector: 'auto') and then differ from them
    sm = np.array([x['landmarks'] for x in json.loads((cli_out / 'clip.json').read_text())['frames']])
    raw = np.stack([f.landmarks for f in predict_video(src, model, smooth=False).raw])
    assert np.allclose(sm[0], raw[0], atol=1e-3) and not np.allclose(sm, raw, atol=1e-2)
    for i in range(1, N):
        if vp.status[i] == 'track': assert np.allclose(vp.raw[i].box, track_box(vp.raw[i - 1], head_idx))
        else: assert np.allclose(vp.raw[i].box, [0, 0, 128, 128])

def test_bad_videos(setup, tmp_path):
    from trans3dhead.video import is_video, write_video
    tmp, fdir, clip, mdir, src = setup
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'broken.json').write_text('previous result')
    (tmp_path / 'broken.mp4').write_bytes(b'\x00\x00\x00\x18ftypmp42 but then nothing useful')
    with av.open(str(tmp_path / 'empty.avi'), 'w', format='avi') as c:            # a video stream without frames
        s = c.add_stream('mpeg4', rate=30)
        s.width = s.height = 64
        s.pix_fmt = 'yuv420p'
        c.start_encoding()
    r = run(tmp, tmp_path / 'broken.mp4', tmp_path / 'empty.avi', '--model', mdir, '--flame_dir', fdir, '--out', out)
    assert r.returncode == 2, r.stdout + r.stderr[-3000:]
    assert 'broken.mp4: cannot open the video' in r.stderr and 'empty.avi: the video has no frames' in r.stderr
    assert (out / 'broken.json').read_text() == 'previous result'                # never half-overwritten
    assert sorted(p.name for p in out.iterdir()) == ['broken.json']                # no partial or temporary files
    # an encoding that fails half-way leaves the existing file as it was
    (tmp_path / 'v.mp4').write_bytes(b'old')
    def frames():
        yield from clip['frames'][:5]
        raise RuntimeError('interrupted')
    with pytest.raises(RuntimeError): write_video(tmp_path / 'v.mp4', frames())
    assert (tmp_path / 'v.mp4').read_bytes() == b'old' and not list(tmp_path.glob('.v.mp4*'))
    # dispatch: by extension, or by probing a file with another extension; images are not videos
    (tmp_path / 'clip.bin').write_bytes(src.read_bytes())
    assert is_video(src) and is_video(tmp_path / 'clip.bin') and not is_video(tmp_path / 'nothing.mp4')
    from PIL import Image
    Image.fromarray(clip['frames'][0]).save(tmp_path / 'f.png')
    (tmp_path / 'f.dat').write_bytes((tmp_path / 'f.png').read_bytes())
    assert not is_video(tmp_path / 'f.png') and not is_video(tmp_path / 'f.dat')
