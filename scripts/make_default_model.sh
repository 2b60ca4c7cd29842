#!/usr/bin/env bash
# Reproduces models/kjv-small, the model `deepseek generate` uses when no --model is given:
# a byte-level BPE tokenizer and a DeepSeek-V3-architecture model trained with this project's own
# `deepseek tokenizer train` and `deepseek train` on the King James Bible (public domain), as Debian's
# bible-kjv-text package ships it (read with that package's `bible` program from bible-kjv).
#
# Usage: scripts/make_default_model.sh            (about an hour on 2 cores)
# Needs: apt-get install bible-kjv; swift build -c release -Xswiftc -enable-testing
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEEPSEEK="${DEEPSEEK:-$ROOT/.build/release/deepseek}"
OUT="$ROOT/models/kjv-small"
WORK="${WORK:-$(mktemp -d)}"
command -v bible >/dev/null || { echo "needs the bible program: apt-get install bible-kjv" >&2; exit 1; }

# The text: one verse per line (verse numbers and chapter headings dropped), chapters separated by a blank line.
bible -l0 'Gen1:1-Rev22:21' 2>/dev/null | sed -E '/^[A-Z0-9][A-Za-z ]* [0-9]+$/d; s/^ +[0-9]+ //' | cat -s | sed '1{/^$/d}' > "$WORK/kjv.txt"

mkdir -p "$WORK/model"
"$DEEPSEEK" tokenizer train --data "$WORK/kjv.txt" --vocab-size 4096 --out "$WORK/model"
cp "$ROOT/models/kjv-small/config.json" "$WORK/model/config.json"
"$DEEPSEEK" train --config "$WORK/model/config.json" --data "$WORK/kjv.txt" --out "$WORK/run" \
    --steps 800 --sequence-length 256 --batch-sequences 8 --lr 2e-3 --min-lr 2e-4 --warmup 30 \
    --held-out 0.05 --eval-every 100 --eval-windows 64 --save-every 100 --seed 0 --threads 2 --save-dtype bf16

mkdir -p "$OUT"
cp "$WORK/run/model.safetensors" "$WORK/run/config.json" "$WORK/run/tokenizer.json" "$WORK/run/tokenizer_config.json" \
   "$WORK/run/metrics.csv" "$WORK/run/loss.svg" "$OUT/"
echo "wrote $OUT"
