"""Organizations (the delivery company, our tenant) and the merchants that ship through it."""
