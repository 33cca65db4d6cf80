"""Checks neurozoo's port of SHD's cochlea chain against the original `lauscher` (PyPI 1.0.1,
the code that made SHD), and that h5py reads the files `neurozoo gen shd-synth` writes.
Developer tool, not CI: lauscher needs about 6 minutes per second of 48 kHz audio per core.

    python3 -m venv /tmp/lenv && /tmp/lenv/bin/pip install lauscher h5py numpy scipy soundfile
    cargo build --release -p train
    /tmp/lenv/bin/python scripts/compare_lauscher.py --neurozoo target/release/neurozoo \
        --words en-us+m3:seven de+f2:sieben en-gb:two [--jobs 2] [--check-h5 data/shd-synthetic]

For each word: espeak-ng speaks it, scipy resamples it to 48 kHz (the FFT method, as the
generator does) and it is saved as 16-bit WAV; lauscher's Wave2Spike(700) and
`neurozoo gen shd-synth --wav` convert the same file at its own length. The fibres' random
numbers differ (numpy's Bernoulli draws against our first-passage sampling), so single spikes
cannot agree; what must agree is how many spikes each channel fires and when. Printed per
word: total spikes of both, the Pearson correlation of spike counts per channel, and of counts
per (20 ms, 10-channel) cell.
"""
import argparse
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample


def speak(voice, word, path):
    out = subprocess.run(["espeak-ng", "--stdout", "-v", voice, word], check=True, capture_output=True).stdout
    wav = Path(path).with_suffix(".22k.wav")
    wav.write_bytes(out)
    samples, rate = soundfile.read(wav)
    samples = resample(samples, int(np.ceil(len(samples) * 48000 / rate)))
    soundfile.write(path, samples, 48000, subtype="PCM_16")


def lauscher_spikes(path, jobs, seed):
    from lauscher.audiowaves import FileMonoAudioWave
    from lauscher.helpers import CommandLineArguments
    from lauscher.transformations.wave2spike import Wave2Spike

    CommandLineArguments().num_concurrent_jobs = jobs
    np.random.seed(seed)
    spikes = FileMonoAudioWave(str(path)).transform(Wave2Spike(num_channels=700))
    return np.asarray(spikes.spike_times), np.asarray(spikes.spike_labels).astype(int)


def neurozoo_spikes(binary, path, out):
    subprocess.run([binary, "gen", "shd-synth", "--wav", str(path), "--spikes", str(out)], check=True,
                   capture_output=True)
    data = np.loadtxt(out, delimiter=",", ndmin=2)
    return data[:, 0], data[:, 1].astype(int)


def cells(times, units, duration):
    bins = int(np.ceil(duration / 0.02))
    counts = np.zeros((bins, 70))
    np.add.at(counts, (np.minimum((times / 0.02).astype(int), bins - 1), units // 10), 1)
    return counts.ravel()


def check_h5(folder):
    import h5py

    for part in ("train", "test"):
        with h5py.File(Path(folder) / f"shd_{part}.h5", "r") as f:
            dataset_times, dataset_units = f["spikes/times"], f["spikes/units"]
            # Sample by sample, times then units, as SHD loaders read: each element's heap
            # collection must stay in libhdf5's cache (files made before the 64 KiB collections
            # took 0.4 s per sample here).
            started = time.time()
            probe = min(200, len(dataset_times))
            for i in range(probe):
                assert len(dataset_times[i]) == len(dataset_units[i])
            per_sample = (time.time() - started) / max(probe, 1)
            times, units, labels = dataset_times[:], dataset_units[:], f["labels"][:]
            lengths = np.array([len(t) for t in times])
            assert all(len(t) == len(u) for t, u in zip(times, units))
            print(f"h5py reads {folder}/shd_{part}.h5: dataset={f.attrs['dataset'].decode()}, {len(labels)} samples, "
                  f"times {dataset_times.dtype.metadata['vlen']}, units {dataset_units.dtype.metadata['vlen']}, "
                  f"{lengths.mean():.0f} spikes per sample (min {lengths.min()}, max {lengths.max()}), "
                  f"last spike {max(t.max() for t in times if len(t)):.3f} s, classes {np.bincount(labels).tolist()}, "
                  f"{per_sample * 1000:.2f} ms per sample read one by one", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neurozoo", default="target/release/neurozoo")
    parser.add_argument("--words", nargs="*", default=["en-us+m3:seven", "de+f2:sieben", "en-gb:two"])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check-h5", help="a folder written by `neurozoo gen shd-synth`")
    args = parser.parse_args()
    if args.check_h5:
        check_h5(args.check_h5)
    with tempfile.TemporaryDirectory() as tmp:
        for item in args.words:
            voice, word = item.split(":")
            wav = Path(tmp) / f"{word}.wav"
            speak(voice, word, wav)
            duration = soundfile.info(wav).duration
            started = time.time()
            ref_t, ref_u = lauscher_spikes(wav, args.jobs, args.seed)
            ref_seconds = time.time() - started
            started = time.time()
            our_t, our_u = neurozoo_spikes(args.neurozoo, wav, Path(tmp) / f"{word}.csv")
            our_seconds = time.time() - started
            per_channel = np.corrcoef(np.bincount(ref_u, minlength=700), np.bincount(our_u, minlength=700))[0, 1]
            per_cell = np.corrcoef(cells(ref_t, ref_u, duration), cells(our_t, our_u, duration))[0, 1]
            print(f"{voice}:{word} ({duration:.2f} s): lauscher {len(ref_t)} spikes in {ref_seconds:.0f} s, "
                  f"neurozoo {len(our_t)} in {our_seconds:.1f} s; correlation per channel {per_channel:.3f}, "
                  f"per 20 ms x 10 channels {per_cell:.3f}", flush=True)


if __name__ == "__main__":
    main()
