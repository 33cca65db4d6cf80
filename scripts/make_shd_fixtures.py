"""Writes the SHD fixtures of crates/tasks/tests/fixtures/shd with h5py, a writer other than
neurozoo's own code, in the layout of the published shd_train.h5 / shd_test.h5
(spec data.md §2): vlen `spikes/times` and `spikes/units`, `labels`, `extra/speaker`,
`extra/keys`, `extra/meta_info/*`.

    python3 -m venv /tmp/h5env && /tmp/h5env/bin/pip install h5py numpy
    /tmp/h5env/bin/python scripts/make_shd_fixtures.py crates/tasks/tests/fixtures/shd

h5py 3.16 (HDF5 2.0.0) made the committed files. Times are dyadic fractions, exact in
float16, so the tests' hand-computed bin counts do not depend on rounding.
"""
import gzip
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

KEYS = [f"english {d}" for d in range(10)] + [f"german {d}" for d in range(10)]

# Sample 0 (label 3): at 2 ms bins, 0 and 2^-10 s fall in bin 0 on channel 5, 2^-9 s
# (0.00195 s) also in bin 0 on channel 5, 2^-8 s (0.0039 s) in bin 1 on channel 699, 0.5 s in
# bin 250 on channel 0, 0.998046875 s in bin 499 on channel 10; 1.0 s and 1.25 s are dropped.
SAMPLES = [
    ([0.0, 2**-10, 2**-9, 2**-8, 0.5, 0.998046875, 1.0, 1.25], [5, 5, 5, 699, 0, 10, 10, 3], 3, 0),
    ([], [], 12, 1),  # an empty sample (a silent recording)
    ([0.25, 0.25, 0.25, 0.75], [1, 1, 2, 698], 19, 1),
]


def write(path, samples, time_type, unit_type, label_type):
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (len(samples),), dtype=h5py.vlen_dtype(np.dtype(time_type)))
        units = f.create_dataset("spikes/units", (len(samples),), dtype=h5py.vlen_dtype(np.dtype(unit_type)))
        for i, (t, u, _, _) in enumerate(samples):
            times[i] = np.array(t, dtype=time_type)
            units[i] = np.array(u, dtype=unit_type)
        f.create_dataset("labels", data=np.array([s[2] for s in samples], dtype=label_type))
        f.create_dataset("extra/speaker", data=np.array([s[3] for s in samples], dtype=np.uint16))
        f.create_dataset("extra/keys", data=np.array(KEYS, dtype="S16"))
        f.create_dataset("extra/meta_info/gender", data=np.array([b"female", b"male"], dtype="S6"))
        f.create_dataset("extra/meta_info/age", data=np.array([29, 31], dtype=np.uint16))


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write(out / "shd_f16.h5", SAMPLES, np.float16, np.uint16, np.uint8)
    write(out / "shd_f64_i32.h5", SAMPLES, np.float64, np.int32, np.int64)
    write(out / "shd_f32_u8.h5", [([0.25, 0.5], [1, 255], 7, 0)], np.float32, np.uint8, np.uint16)
    good = (out / "shd_f16.h5").read_bytes()
    (out / "shd_f16.h5.gz").write_bytes(gzip.compress(good, mtime=0))
    with zipfile.ZipFile(out / "shd_f16.h5.zip", "w", zipfile.ZIP_DEFLATED) as z:
        entry = zipfile.ZipInfo("shd_f16.h5", date_time=(2020, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(entry, good)
    # Invalid contents, each named by what is wrong.
    bad_unit = [(list(SAMPLES[0][0]), SAMPLES[0][1][:3] + [700] + SAMPLES[0][1][4:], 3, 0)]
    write(out / "bad_unit.h5", bad_unit, np.float32, np.uint16, np.uint8)
    write(out / "bad_label.h5", [SAMPLES[2][:2] + (20, 1)], np.float32, np.uint16, np.uint8)
    write(out / "bad_lengths.h5", [(SAMPLES[0][0], SAMPLES[0][1][:5], 3, 0)], np.float32, np.uint16, np.uint8)
    write(out / "bad_negative_time.h5", [([0.1, -0.5], [1, 2], 3, 0)], np.float32, np.uint16, np.uint8)
    write(out / "bad_nan_time.h5", [([0.1, float("nan")], [1, 2], 3, 0)], np.float32, np.uint16, np.uint8)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crates/tasks/tests/fixtures/shd")
