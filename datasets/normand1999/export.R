#!/usr/bin/env Rscript
# Export metadat's dat.normand1999 (9 trials of specialist vs routine care after stroke: length of
# hospital stay in days, mean and SD per arm) to datasets/normand1999/studies.csv, with metafor's
# column names (n1i, m1i, sd1i: specialist care; n2i, m2i, sd2i: routine care). Values unchanged.
# Run from the repository root:  Rscript datasets/normand1999/export.R   (metadat 1.2.0, R 4.2)
suppressPackageStartupMessages(library(metadat))
d <- dat.normand1999
stopifnot(identical(names(d), c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")), nrow(d) == 9)
con <- file("datasets/normand1999/studies.csv", open = "wb", encoding = "UTF-8")
write.csv(data.frame(study = d$source, study_id = d$study, n1i = d$n1i, m1i = d$m1i, sd1i = d$sd1i,
                     n2i = d$n2i, m2i = d$m2i, sd2i = d$sd2i),
          con, row.names = FALSE, na = "", fileEncoding = "UTF-8")
close(con)
