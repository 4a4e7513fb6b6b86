"""Authentication: registration, login, refresh-token rotation, logout and role checks."""
