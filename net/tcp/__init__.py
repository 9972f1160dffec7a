"""The TCP transport: a threaded host and client around the pure protocol and room cores."""
