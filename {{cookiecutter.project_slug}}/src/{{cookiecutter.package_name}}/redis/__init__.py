"""The Redis pack: one client per process, shared by what must hold across processes."""
