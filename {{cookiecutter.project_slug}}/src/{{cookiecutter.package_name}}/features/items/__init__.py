"""Items: an example resource owned by a user, with full CRUD, filters, sorting and pagination."""
