"""Shared machinery of every reviewlake job: config, Spark session, Delta I/O, run report."""
