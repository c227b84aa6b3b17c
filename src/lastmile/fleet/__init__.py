"""The fleet: depots and hubs, vehicles, drivers with shifts and skills, lockers and pick-up points."""
