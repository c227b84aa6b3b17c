"""Orders: what to deliver, to whom, when and how, with parcels and a status history."""
