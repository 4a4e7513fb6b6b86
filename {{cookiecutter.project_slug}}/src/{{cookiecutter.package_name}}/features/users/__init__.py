"""Users: the account owner's profile and the admin's user management."""
