"""Queries answered by the store: SQL on the step tables of the views (`positions.views.tables`),
one module per family of commands."""
