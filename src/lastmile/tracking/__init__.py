"""Live tracking: position ingest (app, OsmAnd, MQTT), stop geofences and ETAs, tracking links."""
