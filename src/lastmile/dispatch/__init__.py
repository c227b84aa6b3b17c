"""The dispatcher's operations backend: exceptions inbox, board, map, moving and re-planning."""
