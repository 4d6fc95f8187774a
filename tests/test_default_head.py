"""Slow end-to-end check of the default head's cache: two processes racing on the first build both get one complete
folder."""
import os, subprocess, sys
from pathlib import Path

def test_default_head_dir_race(tmp_path):
    env = dict(os.environ, TRANS3DHEAD_CACHE=str(tmp_path))
    code = "from trans3dhead.default_head import default_head_dir; print(default_head_dir(0))"
    cmd = [sys.executable, '-c', code]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate()[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert outs[0] == outs[1] and Path(outs[0]) == tmp_path / 'default_head-v2-seed0'
    from trans3dhead.flame_files import missing_flame_files, load_flame_model
    assert missing_flame_files(outs[0]) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.')]
    m = load_flame_model(Path(outs[0]) / 'generic_model.pkl')
    assert m['shapedirs'].shape[1:] == (3, 400)
