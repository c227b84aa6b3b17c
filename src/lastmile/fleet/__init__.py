"""Fleet: depots and hubs, vehicles, drivers with shifts and skills, lockers, pick-up points."""
