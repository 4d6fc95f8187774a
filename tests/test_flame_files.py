"""A FLAME folder with a vertex-subset file made for another mesh is refused when the FLAME layer is built: one
FlameFilesError naming the file, what was expected and where the right file comes from."""
import shutil
import numpy as np
import pytest
from trans3dhead.errors import FlameFilesError
from trans3dhead.flame import FlameLayer


@pytest.mark.parametrize('name, bad, words', [
    ('head_indices.npy', np.arange(3457), ['head_indices.npy', 'indices from 0 to 3456', 'in [0, 642)', 'DAD-3DHeads']),
    ('face_indices.npy', np.array([1, 2, 2, 5]), ['face_indices.npy', 'repeats 1']),
    ('landmarks_191.npy', np.arange(190), ['landmarks_191.npy', 'holds 190 indices', '191 distinct']),
    ('head_z5_indices.npy', np.linspace(0, 5, 6), ['head_z5_indices.npy', 'float64']),
])
def test_wrong_subset_file(tiny_flame_dir, tmp_path, name, bad, words):
    d = tmp_path / 'flame'
    shutil.copytree(tiny_flame_dir, d)
    np.save(d / name, bad)
    with pytest.raises(FlameFilesError) as e: FlameLayer(d)
    assert all(w in str(e.value) for w in words), str(e.value)


def test_right_files_load(tiny_flame_dir):
    f = FlameLayer(tiny_flame_dir)
    assert f.head_idx.max() < f.n_vertices and len(f.dense_191) == 191
