"""The pure core of Fleet: personas, the activity clock, names and decisions.

Nothing here does I/O or reads the environment: values in, values out; time and
randomness are passed in.
"""
