"""Operations reports: delivery, punctuality, cost and CO2 per day, hub, vehicle type or
driver, as JSON, CSV and SVG plots, and the report page; see docs/reports.md."""
