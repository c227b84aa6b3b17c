"""Planning a delivery day: optimisation jobs, proposals, and committed routes with stops."""
