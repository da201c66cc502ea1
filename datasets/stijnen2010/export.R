#!/usr/bin/env Rscript
# Control-arm (standard catheter) infection counts of dat.nielweise2007 (metadat), the data
# Stijnen, Hamza & Ozdemir (2010) pool as proportions in their Table II.
# Run from the repository root: Rscript datasets/stijnen2010/export.R
suppressPackageStartupMessages(library(metadat))
d <- dat.nielweise2007
out <- data.frame(study = paste(d$author, d$year), year = d$year, events = d$ci, total = d$n2i,
                  arm = "standard catheter")
write.csv(out, "datasets/stijnen2010/studies.csv", row.names = FALSE)
