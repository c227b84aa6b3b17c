"""Proactive notifications: transactional outbox, worker, channels (email, SMS, webhooks)."""
