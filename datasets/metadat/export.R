#!/usr/bin/env Rscript
# Export single-proportion example datasets of the R package metadat to the project's study-table
# format: datasets/<name>/studies.csv with the columns study, [year], events, total, then the
# dataset's own grouping/moderator columns. Values are written unchanged (no rounding, no
# recoding); a missing value (NA) is written as an empty field.
#
# Run from the repository root:   Rscript datasets/metadat/export.R
# Needs: R >= 4.2 with the package metadat (Debian: r-cran-metadat). The CSVs in the repository
# were written with metadat 1.2.0 and R 4.2; the script stops if a dataset has changed shape.
#
# CSV dialect: UTF-8, comma-separated, header row, every text field double-quoted (a quote inside
# a field is doubled, RFC 4180), LF line ends, numbers as R's write.csv prints them (up to 15
# significant digits).

suppressPackageStartupMessages(library(metadat))

out_root <- "datasets"
if (!dir.exists(out_root)) stop("run this script from the repository root (no ./datasets folder)")

check <- function(ok, what) if (!isTRUE(all(ok))) stop("metadat data changed: ", what)

write_study_csv <- function(df, name) {
  dir <- file.path(out_root, name)
  dir.create(dir, showWarnings = FALSE)
  path <- file.path(dir, "studies.csv")
  con <- file(path, open = "wb", encoding = "UTF-8") # "wb": LF line ends on every platform
  on.exit(close(con))
  write.csv(df, con, row.names = FALSE, na = "", fileEncoding = "UTF-8")
  cat(sprintf("%-28s %3d rows, columns: %s\n", path, nrow(df), paste(names(df), collapse = ", ")))
}

## dat.pritz1997: 14 single-arm studies, patients improved with hyperdynamic therapy.
d <- dat.pritz1997
check(identical(names(d), c("study", "authors", "xi", "ni")) && nrow(d) == 14, "dat.pritz1997 columns")
write_study_csv(data.frame(
  study = d$authors,   # the study label (metadat's `authors`)
  study_id = d$study,  # metadat's study number
  events = d$xi,
  total = d$ni
), "pritz1997")

## dat.debruin2009: 13 control (standard care) groups, patients with undetectable viral load.
d <- dat.debruin2009
check(identical(names(d), c("author", "year", "scq", "ni", "xi", "mi", "ethnicity", "patients", "select", "sens")) &&
  nrow(d) == 13, "dat.debruin2009 columns")
check(d$mi == d$ni - d$xi, "dat.debruin2009: mi is not ni - xi") # mi is redundant and left out
write_study_csv(data.frame(
  study = d$author,
  year = d$year,
  events = d$xi,
  total = d$ni,
  scq = d$scq,
  ethnicity = d$ethnicity,
  patients = d$patients,
  select = d$select,
  sens = d$sens
), "debruin2009")

## dat.hannum2020: 35 studies, COVID-19 patients with olfactory loss, objective vs subjective measures.
d <- dat.hannum2020
check(identical(names(d), c("authorName", "DOI", "ni", "xi", "percentOlfactoryLoss", "comments",
  "objectivity", "measured", "testType", "country", "patientType")) && nrow(d) == 35, "dat.hannum2020 columns")
write_study_csv(data.frame(
  study = d$authorName,
  doi = d$DOI,
  events = d$xi,
  total = d$ni,
  objectivity = d$objectivity,
  percentOlfactoryLoss = d$percentOlfactoryLoss,
  measured = d$measured,
  testType = d$testType,
  country = d$country,
  patientType = d$patientType,
  comments = d$comments
), "hannum2020")

## dat.kearon1998: 34 diagnostic accuracy studies of venous ultrasonography. Two proportions per
## study, so the table is long: one row per study and outcome,
##   outcome = "sensitivity": events = tp (true positives), total = np (cases),
##   outcome = "specificity": events = tn (true negatives), total = nn (non-cases).
## Studies whose counts are NA in metadat keep their rows with empty events/total.
d <- dat.kearon1998
check(identical(names(d), c("id", "study", "year", "patients", "tp", "np", "tn", "nn")) && nrow(d) == 34,
  "dat.kearon1998 columns")
long <- rbind(
  data.frame(study = d$study, year = d$year, events = d$tp, total = d$np, outcome = "sensitivity",
    patients = d$patients, id = d$id),
  data.frame(study = d$study, year = d$year, events = d$tn, total = d$nn, outcome = "specificity",
    patients = d$patients, id = d$id)
)
long <- long[order(long$id, long$outcome), ]
write_study_csv(long, "kearon1998")

cat(sprintf("metadat %s, R %s\n", packageVersion("metadat"), getRversion()))
