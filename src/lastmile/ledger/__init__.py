"""The custody ledger: a hash-chained, signed, day-sealed record of who held each parcel."""
