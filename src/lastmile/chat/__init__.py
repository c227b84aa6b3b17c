"""Per-order chat between the customer (by tracking link) and the driver or dispatch."""
