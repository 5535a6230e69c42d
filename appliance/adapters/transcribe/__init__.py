"""Speech to text for recorded messages."""
