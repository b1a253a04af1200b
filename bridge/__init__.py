"""motionbridge: the daemon, its transports and the command line."""
import os

# NumPy's OpenBLAS starts a thread per core for the live step's small matrix products
# (models.solo.cpu), and its idle threads spin: on a 2-core machine they take time from the frame
# clock (`bench serve`, one performer: daemon step p99 4.5 ms, against 2.9 with one thread). Set
# before NumPy is loaded; a value the user set stays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
