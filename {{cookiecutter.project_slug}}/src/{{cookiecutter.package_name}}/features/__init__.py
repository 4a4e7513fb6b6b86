"""One folder per domain: router, schemas, service, repository, models, dependencies."""
