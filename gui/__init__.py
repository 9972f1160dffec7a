"""The Tkinter window. Never touches a socket: it talks to `net` through an event queue."""
