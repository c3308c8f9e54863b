"""Mutualisation cost modeller: allocate and project the pooled digital costs of an EPCI."""

__version__ = "0.1.0"
