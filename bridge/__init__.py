"""motionbridge: the daemon, its transports and the command line."""
import models  # noqa: F401  first: it sets NumPy's threads before NumPy is loaded (see there)
