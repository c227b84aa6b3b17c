"""Recipients and their geocoded addresses."""
