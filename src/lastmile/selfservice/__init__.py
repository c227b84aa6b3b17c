"""Customer self-service on the tracking link: change when, where and how a parcel arrives."""
