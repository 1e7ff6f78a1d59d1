"""Funder reports: figures computed in the database, declarative templates, small-cell
suppression, CSV/XLSX exports, the monthly job and the dashboard. See docs/reports.md."""
