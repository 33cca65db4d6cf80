#!/usr/bin/env bash
# The GPU check (issue 18): one short run on an NVIDIA machine with no network, in two halves.
#
#   scripts/gpu-check.sh prepare --elmneuron DIR --glifs-asc DIR   # here, with network: ~25 min cold
#   scripts/gpu-check.sh run                                         # there: ~8 min on an H200
#
# `prepare` fills .gpucheck/ (git-excluded, about 40 MiB): the wgpu release binary (xz), the
# Vulkan loader's Debian packages (the GPU machine has the NVIDIA driver but no loader and can
# install nothing), the golden cases from ../shared/golden, and the authors' PyTorch code
# (checkouts of AaronSpieler/elmneuron and AllenInstitute/GLIFS_ASC).
#
# `run` unpacks the loader, then
#   1. runs every golden case on the GPU through the binary (import → predict → grads,
#      --device wgpu) and compares with the authors' numbers at the README's tolerances;
#   2. `neurozoo bench --device wgpu` on the six bench shapes (with --compare-unfused, which
#      gives the fused/per-step ratio and both launch counts) and on Path-X at batch 768 with
#      recomputation (configs/lra/elm-pathx.toml);
#   3. the authors' PyTorch on CUDA on the same shapes (scripts/bench_*_reference.py);
# and writes one report, gpu-report.md, into $OUT (or the current folder), with the raw JSON
# beside it. A step that fails is reported and the rest still run.
#
# With the project's device tool: `run` with carry [".gpucheck"] and the command
#   bash scripts/gpu-check.sh run
set -uo pipefail
cd "$(dirname "$0")/.."
here=.gpucheck

prepare() {
  local elmneuron="" glifs=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --elmneuron) elmneuron="$2"; shift 2 ;;
      --glifs-asc) glifs="$2"; shift 2 ;;
      *) echo "gpu-check prepare: unknown argument $1 (expected --elmneuron DIR --glifs-asc DIR)" >&2; exit 2 ;;
    esac
  done
  [ -d "$elmneuron/src" ] || { echo "gpu-check prepare: --elmneuron must be a checkout of AaronSpieler/elmneuron (no src/ in '$elmneuron')" >&2; exit 2; }
  [ -d "$glifs/main" ] || { echo "gpu-check prepare: --glifs-asc must be a checkout of AllenInstitute/GLIFS_ASC (no main/ in '$glifs')" >&2; exit 2; }
  set -e
  grep -qx '/.gpucheck/' .git/info/exclude 2>/dev/null || echo /.gpucheck/ >> .git/info/exclude
  rm -rf "$here.tmp" && mkdir -p "$here.tmp/gl" "$here.tmp/ref"
  cargo build --release -p train --features wgpu --bin neurozoo
  strip -o "$here.tmp/neurozoo" target/release/neurozoo
  xz -T2 -6 "$here.tmp/neurozoo"
  # The loader and its companions, as the device tool's README names them (amd64 lists kept
  # apart from the system's).
  mkdir -p /tmp/gpucheck-apt/partial
  local o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/gpucheck-apt)
  apt-get "${o[@]}" update -qq
  (cd "$here.tmp/gl" && apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  cp -r ../shared/golden "$here.tmp/golden" && chmod -R u+w "$here.tmp/golden"
  cp -r "$elmneuron" "$here.tmp/ref/elmneuron" && rm -rf "$here.tmp/ref/elmneuron/.git" "$here.tmp/ref/elmneuron/models"
  mkdir -p "$here.tmp/ref/GLIFS_ASC" && cp -r "$glifs/main" "$here.tmp/ref/GLIFS_ASC/main"
  rm -rf "$here" && mv "$here.tmp" "$here"
  du -sh "$here"
}

run_check() {
  local out="${OUT:-$PWD}" work=/tmp/gpucheck
  local report="$out/gpu-report.md" json="$out/gpu-report.jsonl"
  rm -rf "$work" && mkdir -p "$work" "$out"
  : > "$json"
  for f in "$here"/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  if [ ! -e /usr/share/vulkan/icd.d/nvidia_icd.json ] && [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
  xz -dc "$here/neurozoo.xz" > "$work/neurozoo" && chmod +x "$work/neurozoo"
  local nz="$work/neurozoo"
  {
    echo "# GPU check — $(date -u +%FT%TZ)"
    echo
    echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>&1
    echo '```'
  } > "$report"

  # 1. Golden cases on the GPU.
  for case in "$here"/golden/glifr/* "$here"/golden/elm/*; do
    local name family w
    name=$(basename "$case"); family=$(basename "$(dirname "$case")"); w="$work/golden/$family-$name"
    mkdir -p "$w"
    if [ "$family" = glifr ]; then
      "$nz" import --from glifs-asc --checkpoint "$case/model.ckpt" --out "$w/ckpt" > "$w/log" 2>&1
      extra=(--voltage "$w/voltage.npy")
    else
      "$nz" import --from elmneuron --checkpoint "$case/model_state.pt" --config "$case/model_config.json" --out "$w/ckpt" > "$w/log" 2>&1
      extra=()
    fi
    timeout 300 "$nz" predict --checkpoint "$w/ckpt" --input "$case/x.npy" --output "$w/y.npy" "${extra[@]}" --device wgpu >> "$w/log" 2>&1
    if [ -e "$case/labels.npy" ]; then
      timeout 300 "$nz" grads --checkpoint "$w/ckpt" --input "$case/x.npy" --labels "$case/labels.npy" --out "$w/grads" --device wgpu >> "$w/log" 2>&1
    fi
    python3 scripts/gpu_check_report.py golden "$family/$name" "$case" "$w" >> "$json"
  done

  # 2. Ours on the GPU (wgpu → Vulkan). Shapes, batches and step counts as scripts/bench_compare.py.
  bench() { # label, config, batch, steps, extra…
    local label="$1" config="$2" batch="$3" steps="$4"; shift 4
    if timeout 300 "$nz" bench --config "$config" --batch-size "$batch" --steps "$steps" --warmup 2 \
        --device wgpu --threads 1 "$@" > "$work/bench.json" 2> "$work/bench.err"; then
      python3 scripts/gpu_check_report.py ours "$label" "$work/bench.json" >> "$json"
    else
      python3 scripts/gpu_check_report.py failed "$label" "$work/bench.err" >> "$json"
    fi
  }
  bench "GLIFR LHetA L-MNIST b256" configs/lmnist/glifr-lheta.toml 256 10 --compare-unfused
  bench "GLIFR LHetA P-MNIST b64" configs/pmnist/glifr-lheta.toml 64 3 --compare-unfused
  bench "ELM SHD-like b8" configs/bench/elm-shd-like.toml 8 20 --compare-unfused
  bench "ELM SHD-like b64" configs/bench/elm-shd-like.toml 64 10 --compare-unfused
  bench "ELM Pathfinder-32-like b32" configs/bench/elm-pathfinder32-like.toml 32 5 --compare-unfused
  bench "Branch-ELM NeuronIO d_m 20 b8" configs/bench/branch-elm-neuronio-dm20.toml 8 5 --compare-unfused
  bench "ELM Path-X b768 (recompute 128)" configs/lra/elm-pathx.toml 768 2

  # 3. The authors' PyTorch on CUDA.
  local ref="$here/ref"
  for only in "glifr-lheta-lmnist b256" "glifr-lheta-pmnist b64"; do
    timeout 300 python3 scripts/bench_glifr_reference.py --glifs-asc "$ref/GLIFS_ASC" --device cuda --steps 5 \
      --only "$only" > "$work/ref.json" 2> "$work/ref.err" \
      && python3 scripts/gpu_check_report.py torch "$only" "$work/ref.json" >> "$json" \
      || python3 scripts/gpu_check_report.py failed "torch $only" "$work/ref.err" >> "$json"
  done
  for only in "elm-shd-like b8" "elm-shd-like b64" "elm-pathfinder32-like b32" "branch-elm-neuronio-dm20 b8" "elm-pathx b768"; do
    local steps=5; [ "$only" = "elm-pathx b768" ] && steps=1
    timeout 300 python3 scripts/bench_elm_reference.py --elmneuron "$ref/elmneuron" --device cuda --steps "$steps" \
      --warmup 1 --only "$only" > "$work/ref.json" 2> "$work/ref.err" \
      && python3 scripts/gpu_check_report.py torch "$only" "$work/ref.json" >> "$json" \
      || python3 scripts/gpu_check_report.py failed "torch $only" "$work/ref.err" >> "$json"
  done

  python3 scripts/gpu_check_report.py report "$json" >> "$report"
  cat "$report"
}

case "${1:-}" in
  prepare) shift; prepare "$@" ;;
  run) run_check ;;
  *) echo "usage: scripts/gpu-check.sh prepare --elmneuron DIR --glifs-asc DIR | run" >&2; exit 2 ;;
esac
