#!/usr/bin/env bash
# Build the seed corpora: `load` and `parquet` from the test files under tests/data, `claims` from datasets/.
# The first byte of a fuzz input selects the file type and options (see fuzz_targets/*.rs):
# bits 0-1 (load only): 0 .csv, 1 .tsv, 2 .csv read with --delimiter ';', 3 .txt with '|';
# bit 2: --by group; bit 3: --na drop; bit 4: --where outcome=a.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/load corpus/parquet
for f in ../tests/data/bad/* ../tests/data/bad/fuzz/* ../tests/data/good/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    out=corpus/load
    case "$name" in
        *.parquet) modes="0 4 8"; out=corpus/parquet ;;
        *.tsv) modes="1 9" ;;
        semicolon*|thousands*|fractional_decimal*|wrong_delimiter*) modes="2 10" ;;
        *) modes="0 4 8 16" ;;
    esac
    for m in $modes; do
        { printf "\\x$(printf %02x "$m")"; cat "$f"; } > "$out/$m-$name"
    done
done
echo "$(ls corpus/load | wc -l) seeds in fuzz/corpus/load, $(ls corpus/parquet | wc -l) in fuzz/corpus/parquet"

# The `claims` target: the shipped claims files, and each printed text on its own.
mkdir -p corpus/claims
for f in ../datasets/*/claims.toml; do
    cp "$f" "corpus/claims/$(basename "$(dirname "$f")").toml"
done
grep -h '^printed = ' ../datasets/*/claims.toml | sed 's/^printed = "//; s/"$//' | while IFS= read -r line; do
    printf '%s' "$line" > "corpus/claims/printed-$(printf '%s' "$line" | md5sum | cut -c1-12)"
done
echo "$(ls corpus/claims | wc -l) seeds in fuzz/corpus/claims"

# The `revman` target: the RevMan files of the tests.
mkdir -p corpus/revman
cp ../tests/fixtures/revman/*.rm5 corpus/revman/
echo "$(ls corpus/revman | wc -l) seeds in fuzz/corpus/revman"
