"""Empty stand-in: private-pgm's mechanism base class imports autodp."""
