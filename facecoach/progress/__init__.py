"""Proof of results: repeatable check-ins, between-session noise, aligned before/after pictures, a report."""
