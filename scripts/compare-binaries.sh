#!/bin/bash
# Same numbers before and after a refactor: trains the same short runs with two neurozoo
# binaries and compares their metrics (every column but the seconds) and the predictions of
# their final weights (bit for bit; model.bpk itself differs, as parameter ids are random).
#
#   scripts/compare-binaries.sh OLD_BINARY NEW_BINARY [WORK_DIR]
#
# Runs: GLIFR LHetA and the LSTM on sine (60 epochs), GLIFR LHetA and the ELM on L-MNIST
# (2 epochs on 2,048 images). Needs the MNIST files in data/mnist. About 5 minutes on 2 cores.
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2"); work=${3:-$(mktemp -d)}
cd "$(dirname "$0")/.."
mkdir -p "$work"
runs=(sine-glifr-lheta sine-lstm lmnist-glifr-lheta lmnist-elm)
configs=(sine/glifr-lheta sine/lstm lmnist/glifr-lheta lmnist/elm)
for side in old new; do
  binary=$old; [ $side = new ] && binary=$new
  for i in "${!runs[@]}"; do
    set -- --set runs_dir=\"$work/$side\"
    case ${runs[$i]} in
      sine*) set -- "$@" --set training.epochs=60 ;;
      *) set -- "$@" --set training.epochs=2 --set task.train_limit=2048 --set task.test_limit=512 ;;
    esac
    "$binary" train --config "configs/${configs[$i]}.toml" --device flex "$@" > "$work/$side-${runs[$i]}.log" 2>&1
  done
done
python3 - "$work" <<'PY'
import sys, numpy as np
r = np.random.default_rng(0)
np.save(f"{sys.argv[1]}/x-sine.npy", r.normal(size=(3, 20, 1)).astype(np.float32))
np.save(f"{sys.argv[1]}/x-mnist.npy", r.random(size=(3, 28, 28)).astype(np.float32))
PY
status=0
for run in "${runs[@]}"; do
  x=$work/x-mnist.npy; case $run in sine*) x=$work/x-sine.npy ;; esac
  for side in old new; do
    "$new" predict --checkpoint "$work/$side/$run" --input "$x" --output "$work/$side-$run-y.npy" --force --device flex > /dev/null
  done
  same_metrics=no; same_outputs=no
  cmp -s <(cut -d, -f1-5 "$work/old/$run/metrics.csv") <(cut -d, -f1-5 "$work/new/$run/metrics.csv") && same_metrics=yes
  cmp -s "$work/old-$run-y.npy" "$work/new-$run-y.npy" && same_outputs=yes
  echo "$run: $(($(wc -l < "$work/new/$run/metrics.csv") - 1)) epochs, metrics identical: $same_metrics, final weights' outputs bit-identical: $same_outputs"
  [ $same_metrics = yes ] && [ $same_outputs = yes ] || status=1
done
exit $status
