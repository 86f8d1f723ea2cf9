"""Queries answered by the store: SQL on the step tables of the views (`positions.stepstore`),
one module per family of commands."""
