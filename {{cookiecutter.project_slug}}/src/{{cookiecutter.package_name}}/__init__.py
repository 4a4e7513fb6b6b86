"""The service package: an app factory in ``main`` and one folder per feature."""

import atexit
import gc

# A process that imports the service (the server, the command line, the migrations) keeps what
# it built until it ends, and at exit the collector's last passes would walk all of it to free
# memory the exit gives back anyway. Frozen, nothing is walked. Exit handlers registered after
# this one (a trace exporter's flush, say) run before it; what is left in a reference cycle at
# exit is not finalized, so resources are closed explicitly (the lifespan, context managers).
atexit.register(gc.freeze)
