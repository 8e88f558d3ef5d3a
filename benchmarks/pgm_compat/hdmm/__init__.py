"""Stand-in for the parts of hdmm that private-pgm's AIM imports."""
