"""Planners and learners: exact planning on TabularMDPs, tabular learners and deep agents built on `nets`."""
