"""Fleet: persona-driven simulated users for a young image gallery."""

import os

# Fleet's vectors are small (384 floats) and its processes many (prefork children): a
# math library's thread pool only spins on every product. One thread each, before numpy
# loads; set the variables to override.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
