"""The outcomes registry: cohorts, the dashboard's figures with their confidence intervals and the
published ranges beside them, and the de-identified research export."""
