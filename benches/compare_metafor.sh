#!/usr/bin/env bash
# Time the same work in metarepro and in R/metafor, on the same generated files, and print the
# ratios. Whole process against whole process (start-up, reading, fitting, writing).
#
#   bash benches/compare_metafor.sh            # batch 1000 x k=10, GOSH k=12, fits, memory
#   N=1000 K=10 RUNS=10 bash benches/compare_metafor.sh
#
# 1. batch: N analyses of K studies (PLO, REML), `metarepro batch FILE --analysis analysis
#    --output OUT.parquet` against an Rscript that reads the same CSV and loops
#    escalc() + rma() over the analyses (tryCatch per analysis), writing a CSV.
# 1b. batch of 2x2 tables: N analyses of K tables (the studies of a 2K-study table in pairs,
#    as `batch::synthetic_two_group_table`), `metarepro batch --measure OR --pooling MH
#    --method EE` (the M-H model) and `--measure OR` (IV, REML), whose ratio is the issue's
#    "M-H within 2x of IV" target, against an Rscript looping rma.mh(measure = "OR") over the
#    analyses; the estimates of the two M-H runs are compared.
# 2. GOSH: every subset of the first GOSH_K studies of analysis 1 (REML):
#    `metarepro gosh --subsets-output OUT.parquet` against `gosh(rma(...))`.
# 3. A single REML fit, in process: R's mean over repeated `rma()` calls (k = 10, 100, 2000;
#    metafor forms k x k matrices, so k = 10 000 is left out unless R_K=10000) against
#    criterion's estimates from `cargo bench --profile dist --bench fit` (when target/criterion
#    has them).
# 4. Memory of batch (max RSS) for 1k, 10k, 100k and 1M analyses (metarepro only).
#
# The binary timed is built with the `dist` profile (Cargo.toml: fat LTO, one codegen unit), as
# every published timing; the release profile is tuned for build time instead.
# Uses hyperfine when installed (Debian: apt-get install hyperfine), else /usr/bin/time.
# The R parts are skipped, with a note, when Rscript or metafor is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-1000}
K=${K:-10}
SEED=${SEED:-1}
RUNS=${RUNS:-10}
GOSH_K=${GOSH_K:-12}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== building (profile dist)"
cargo build --profile dist --quiet --bin metarepro --example make_batch_data
BIN=target/dist/metarepro
GEN=target/dist/examples/make_batch_data
"$GEN" "$N" "$K" "$SEED" "$WORK/long.csv"
echo "data: $N analyses x $K studies, seed $SEED ($(wc -l < "$WORK/long.csv") lines)"

HAVE_R=0
if command -v Rscript >/dev/null 2>&1 && Rscript -e 'suppressPackageStartupMessages(library(metafor))' >/dev/null 2>&1; then
  HAVE_R=1
  echo "R: $(Rscript -e 'cat(R.version.string, "/ metafor", as.character(packageVersion("metafor")))' 2>/dev/null)"
else
  echo "R with metafor not found: the R timings are skipped"
fi

cat > "$WORK/batch.R" <<'EOF'
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
res <- lapply(split(d, factor(d$analysis, levels = unique(d$analysis))), function(s) {
  es <- escalc(measure = "PLO", xi = s$events, ni = s$total)
  r <- tryCatch(rma(yi, vi, data = es, method = "REML"), error = function(e) NULL)
  if (is.null(r)) return(c(k = nrow(s), estimate = NA, se = NA, ci_lb = NA, ci_ub = NA,
                           tau2 = NA, I2 = NA, Q = NA, Q_p = NA))
  c(k = r$k, estimate = c(r$b), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, tau2 = r$tau2,
    I2 = r$I2, Q = r$QE, Q_p = r$QEp)
})
write.csv(do.call(rbind, res), a[2])
EOF

cat > "$WORK/batch_mh.R" <<'EOF'
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
res <- lapply(split(d, factor(d$analysis, levels = unique(d$analysis))), function(s) {
  r <- tryCatch(rma.mh(measure = "OR", ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i), error = function(e) NULL)
  if (is.null(r)) return(c(k = nrow(s), estimate = NA, se = NA, ci_lb = NA, ci_ub = NA,
                           I2 = NA, Q = NA, Q_p = NA))
  c(k = r$k, estimate = as.numeric(r$b), se = r$se, ci_lb = r$ci.lb, ci_ub = r$ci.ub, I2 = r$I2,
    Q = r$QE, Q_p = r$QEp)
})
write.csv(do.call(rbind, res), a[2])
EOF

cat > "$WORK/gosh.R" <<'EOF'
suppressPackageStartupMessages(library(metafor))
a <- commandArgs(TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
s <- d[d$analysis == d$analysis[1], ][seq_len(as.integer(a[2])), ]
es <- escalc(measure = "PLO", xi = s$events, ni = s$total)
g <- gosh(rma(yi, vi, data = es, method = "REML"), progbar = FALSE)
write.csv(g$res, a[3])
EOF

# time_cmd NAME CMD...: mean wall time in seconds of RUNS runs (hyperfine) or 3 runs (time).
time_cmd() {
  local name=$1; shift
  local runs=$RUNS
  if [ "${SLOW:-0}" = 1 ]; then runs=3; fi
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$WORK/$name.json" "$*" >/dev/null 2>&1 \
      || hyperfine --warmup 1 --runs "$runs" --export-json "$WORK/$name.json" "$*" >/dev/null
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(r['mean'], r['stddev'] or 0)" "$WORK/$name.json"
  else
    local t0 t1 i
    t0=$(date +%s.%N)
    for i in 1 2 3; do "$@" >/dev/null 2>&1; done
    t1=$(date +%s.%N)
    python3 -c "print(($t1 - $t0) / 3, 0)"
  fi
}

ratio() { python3 -c "import sys; a=float(sys.argv[1]); b=float(sys.argv[2]); print(f'{a/b:,.0f}x' if b > 0 else 'n/a')" "$1" "$2"; }
ms() { python3 -c "import sys; print(f'{1000*float(sys.argv[1]):.1f} ms')" "$1"; }

echo
echo "== 1. batch pooling: $N analyses x k = $K (PLO, REML), whole process"
read -r T_RS SD_RS < <(time_cmd batch_rs "$BIN" batch "$WORK/long.csv" --analysis analysis --output "$WORK/out.parquet" --quiet)
echo "metarepro batch -> Parquet : $(ms "$T_RS") (sd $(ms "$SD_RS"))"
read -r T_RC _ < <(time_cmd batch_rs_csv "$BIN" batch "$WORK/long.csv" --analysis analysis --output "$WORK/out.csv" --quiet)
echo "metarepro batch -> CSV     : $(ms "$T_RC")"
if [ $HAVE_R = 1 ]; then
  SLOW=1 read -r T_R SD_R < <(SLOW=1 time_cmd batch_r Rscript "$WORK/batch.R" "$WORK/long.csv" "$WORK/r_out.csv")
  echo "R metafor loop             : $(ms "$T_R") (sd $(ms "$SD_R"))"
  echo "ratio (metafor / metarepro, Parquet): $(ratio "$T_R" "$T_RS") (target >= 500x)"
  echo "ratio (metafor / metarepro, CSV)    : $(ratio "$T_R" "$T_RC") (target >= 500x)"
  # The two agree: largest relative difference of the estimates.
  "$BIN" batch "$WORK/long.csv" --analysis analysis --output "$WORK/out.csv" --quiet
  python3 - "$WORK/out.csv" "$WORK/r_out.csv" <<'EOF'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
theirs = list(csv.DictReader(open(sys.argv[2])))
worst = {}
for o, t in zip(ours, theirs):
    for key in ("estimate", "se", "tau2", "I2", "Q"):
        if t[key] in ("NA", "") or o[key] == "":
            continue
        d = abs(float(o[key]) - float(t[key]))
        worst[key] = max(worst.get(key, 0.0), d)
print(f"same analyses: {len(ours)} rows; largest absolute differences (metafor at its default threshold 1e-5,"
      " so tau2 stops near 1e-6 where the optimum is 0): " + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
EOF
fi

echo
echo "== 1b. batch of 2x2 tables: $N analyses x k = $K (OR), M-H against IV, whole process"
# The same tables as batch::synthetic_two_group_table(N, K, SEED): studies 2j and 2j+1 of the
# 2K-study table are the two groups of table j.
"$GEN" "$N" $((2 * K)) "$SEED" "$WORK/long2k.csv"
awk -F, 'NR == 1 { print "analysis,study,ai,n1i,ci,n2i"; next }
         { s = substr($2, 2) + 0; if (s % 2 == 0) { e1 = $3; n1 = $4 } else { printf "%s,s%d,%s,%s,%s,%s\n", $1, (s - 1) / 2, e1, n1, $3, $4 } }' \
  "$WORK/long2k.csv" > "$WORK/tables.csv"
read -r T_MH SD_MH < <(time_cmd batch_mh "$BIN" batch "$WORK/tables.csv" --analysis analysis --measure OR --pooling MH --method EE --output "$WORK/mh.parquet" --quiet)
echo "metarepro batch, M-H OR (EE) -> Parquet : $(ms "$T_MH") (sd $(ms "$SD_MH"))"
read -r T_IV SD_IV < <(time_cmd batch_iv "$BIN" batch "$WORK/tables.csv" --analysis analysis --measure OR --output "$WORK/iv.parquet" --quiet)
echo "metarepro batch, IV OR (REML) -> Parquet: $(ms "$T_IV") (sd $(ms "$SD_IV"))"
read -r T_MHDL _ < <(time_cmd batch_mh_dl "$BIN" batch "$WORK/tables.csv" --analysis analysis --measure OR --pooling MH --method DL --output "$WORK/mhdl.parquet" --quiet)
echo "metarepro batch, M-H OR (DL) -> Parquet : $(ms "$T_MHDL")"
python3 -c "import sys; m, i, n = map(float, sys.argv[1:]); print(f'M-H / IV per analysis: {m / i:.2f} (target <= 2); {1e6 * m / n:.1f} us against {1e6 * i / n:.1f} us per analysis, whole process')" "$T_MH" "$T_IV" "$N"
if [ $HAVE_R = 1 ]; then
  read -r T_RMH SD_RMH < <(SLOW=1 time_cmd batch_r_mh Rscript "$WORK/batch_mh.R" "$WORK/tables.csv" "$WORK/r_mh.csv")
  echo "R metafor rma.mh loop                  : $(ms "$T_RMH") (sd $(ms "$SD_RMH"))"
  echo "ratio (metafor / metarepro, M-H)       : $(ratio "$T_RMH" "$T_MH")"
  "$BIN" batch "$WORK/tables.csv" --analysis analysis --measure OR --pooling MH --method EE --output "$WORK/mh.csv" --quiet
  python3 - "$WORK/mh.csv" "$WORK/r_mh.csv" <<'EOF'
import csv, sys
ours = list(csv.DictReader(open(sys.argv[1])))
theirs = list(csv.DictReader(open(sys.argv[2])))
worst = {}
for o, t in zip(ours, theirs):
    for key in ("estimate", "se", "ci_lb", "ci_ub", "I2", "Q", "Q_p"):
        if t[key] in ("NA", "") or o[key] == "":
            continue
        d = abs(float(o[key]) - float(t[key]))
        worst[key] = max(worst.get(key, 0.0), d / max(1.0, abs(float(t[key]))))
print(f"same analyses: {len(ours)} of {len(theirs)} rows; largest differences (relative, or absolute below 1): "
      + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
EOF
fi

echo
echo "== 2. GOSH, every subset of k = $GOSH_K (REML), whole process"
head -1 "$WORK/long.csv" > "$WORK/gosh.csv"
awk -F, -v k="$GOSH_K" 'NR > 1 && $1 == "a000000" && c < k { print; c++ }' "$WORK/long.csv" >> "$WORK/gosh.csv"
if [ "$(wc -l < "$WORK/gosh.csv")" -le "$GOSH_K" ]; then
  # analysis 1 has fewer studies: take the first GOSH_K rows of the file, relabelled
  head -1 "$WORK/long.csv" > "$WORK/gosh.csv"
  awk -F, -v k="$GOSH_K" 'NR > 1 && c < k { $1 = "a000000"; print; c++ }' OFS=, "$WORK/long.csv" >> "$WORK/gosh.csv"
fi
read -r T_GS _ < <(time_cmd gosh_rs "$BIN" gosh "$WORK/gosh.csv" --study study --subsets-output "$WORK/gosh.parquet" --format json)
echo "metarepro gosh -> Parquet  : $(ms "$T_GS") ($(( (1 << GOSH_K) - 1 )) fits)"
if [ $HAVE_R = 1 ]; then
  read -r T_GR _ < <(SLOW=1 time_cmd gosh_r Rscript "$WORK/gosh.R" "$WORK/gosh.csv" "$GOSH_K" "$WORK/gosh_r.csv")
  echo "R metafor gosh()           : $(ms "$T_GR")"
  echo "ratio (metafor / metarepro): $(ratio "$T_GR" "$T_GS")"
fi

echo
echo "== 3. one REML fit, in process"
for k in 10 100 10000; do
  EST=target/criterion/reml_fit/rma_int/$k/new/estimates.json
  if [ -f "$EST" ]; then
    T=$(python3 -c "import json; print(json.load(open('$EST'))['mean']['point_estimate'] / 1e9)")
    echo "metarepro rma_int, k = $k (criterion): $(python3 -c "print(f'{1e6*$T:.1f} us')")"
  else
    echo "metarepro, k = $k: run 'cargo bench --profile dist --bench fit' first for this line"
  fi
done
if [ $HAVE_R = 1 ]; then
  # metafor's rma.uni works with k x k matrices: at k = 10 000 one fit needs gigabytes and
  # minutes (R_K=10000 to try it), so the default times k = 10, 100, 2000.
  for k in 10 100 ${R_K:-2000}; do
    T_RFIT=$(Rscript -e "
      suppressPackageStartupMessages(library(metafor)); set.seed(42); k <- $k
      n <- 20 + sample(0:180, k, TRUE); p <- plogis(-1 + 0.4 * rnorm(k)); x <- pmin(pmax(round(n * p), 1), n - 1)
      es <- escalc('PLO', xi = x, ni = n); reps <- if (k > 1000) 3 else 200
      t <- system.time(for (i in seq_len(reps)) rma(yi, vi, data = es))[['elapsed']] / reps; cat(t)")
    echo "R metafor rma(), k = $k: $(python3 -c "print(f'{1e6*$T_RFIT:.1f} us')")"
  done
fi

if [ "${MEMORY:-1}" = 1 ]; then
  echo
  echo "== 4. batch memory (max RSS), flat in the number of analyses"
  for n in 1000 10000 100000 1000000; do
    "$GEN" "$n" "$K" "$SEED" "$WORK/m.csv"
    /usr/bin/time -f "%M %e" -o "$WORK/mem" "$BIN" batch "$WORK/m.csv" --analysis analysis --output "$WORK/m.parquet" --quiet
    read -r KB SEC < "$WORK/mem"
    echo "$n analyses: max RSS $((KB / 1024)) MiB, $SEC s"
  done
fi
