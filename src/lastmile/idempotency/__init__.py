"""``Idempotency-Key`` support: a replayed POST returns the first response and changes nothing."""
