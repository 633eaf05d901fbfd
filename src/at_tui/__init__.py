"""at-tui: the SPICO field-visit companion of GRADeS e-santé Occitanie's territorial facilitators."""

__version__ = "0.1.0"
