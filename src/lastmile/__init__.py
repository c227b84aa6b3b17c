"""Lastmile: a self-hostable, customer-centric last-mile delivery platform."""

__version__ = "0.1.0"
