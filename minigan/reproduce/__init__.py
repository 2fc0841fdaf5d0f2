"""Reproduce the papers' tables in one command (``python -m minigan.reproduce TABLE``).

``tables`` says what each table is made of, ``jobs`` runs one (row, seed), ``runner`` runs many
in parallel (local processes), ``cluster`` runs them on a Dask cluster (``--scheduler``),
``report`` writes the CSV/JSON and the markdown table.
"""
