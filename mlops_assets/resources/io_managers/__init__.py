"""IO managers: a base that knows the data, thin subclasses that say where it goes."""
