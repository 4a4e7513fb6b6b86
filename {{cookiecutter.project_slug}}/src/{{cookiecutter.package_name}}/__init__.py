"""The service package: an app factory in ``main`` and one folder per feature."""

import atexit
import gc

# A process that imports the service (the server, the command line, the migrations) keeps what
# it built until it ends, and at exit the collector's last passes would walk all of it to free
# memory the exit gives back anyway. Frozen, nothing is walked. Exit handlers registered after
# this one (a trace exporter's flush, say) run before it.
atexit.register(gc.freeze)
