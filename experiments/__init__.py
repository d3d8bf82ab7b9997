"""Runs, sweeps, comparisons, reports and the `mdparcade` command line."""
