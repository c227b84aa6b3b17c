"""A realistic, deterministic demo city day (Porto) for `lastmile demo` and benchmarks."""

from lastmile.demo.city import DemoCity, generate_city, generate_orders

__all__ = ["DemoCity", "generate_city", "generate_orders"]
