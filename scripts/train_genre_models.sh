#!/usr/bin/env bash
# Trains the five bundled genre models plus the tempo-equalised ablation (one thread each,
# niced: about 20 minutes of CPU here), then evaluates them on the held-out SoundFont and the
# tempo-equalised pieces. Render the corpus first: python -m core.genre.corpus --out .cache/genre
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
G=.cache/genre
COMMON="--data $G/corpus --threads 1 --batch-size 32"
if [ "${1:-}" != "--eval-only" ]; then
  for m in cnn crnn rnn dense; do
    nice $PY -m core.genre.train --model $m $COMMON --epochs 60 --patience 10 --max-minutes 4
  done
  nice $PY -m core.genre.train --model ast $COMMON --hop 3.0 --epochs 15 --patience 5 --max-minutes 8
fi
for m in cnn crnn rnn dense ast; do
  nice $PY -m core.genre.evaluate --model $m --data heldout_font=$G/heldout_font equal_tempo=$G/equal_tempo_test
done
# Ablation: the CNN trained and tested on pieces whose tempo range is the same for every genre.
nice $PY -m core.genre.train --model cnn --name cnn_equal_tempo --out runs/genre/cnn_equal_tempo_model \
  --data $G/equal_tempo --threads 1 --epochs 60 --patience 10 --max-minutes 3 \
  --eval-data equal_tempo_test=$G/equal_tempo_test heldout_font=$G/heldout_font
