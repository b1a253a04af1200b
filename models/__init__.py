"""The motion models and what they share: data, skeleton, body, metrics, checkpoints."""
import os

# NumPy's OpenBLAS starts a thread per core for the live step's small matrix products
# (models.solo.cpu), and its idle threads spin: on a 2-core machine they take time from the frame
# clock (`bench serve`, one performer: daemon step p99 4.5 ms, against 2.9 with one thread). A
# script that steps 14 performers beside one busy process: p50 7.3 ms and p99 154 ms with a thread
# per core, 3.6 and 3.9 ms with one. Set before NumPy is loaded, so here, where every user of the
# models (the daemon, a script, a test) passes first; a value the user set stays.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
