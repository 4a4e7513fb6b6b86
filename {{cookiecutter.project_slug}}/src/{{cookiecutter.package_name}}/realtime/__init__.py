"""The WebSockets pack: events pushed to signed-in users, wherever their connection lives."""
