"""Adapters to the outside world, each a Protocol with interchangeable providers."""
