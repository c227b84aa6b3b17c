"""Customer ratings of deliveries, their aggregates, and follow-ups on low ratings."""
