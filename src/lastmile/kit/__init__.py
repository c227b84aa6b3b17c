"""Domain-agnostic helpers shared by every domain."""
