"""Feature tables and the point-in-time training set."""
