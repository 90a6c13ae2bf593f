"""OCR engines behind one interface: PP-OCRv6 and Tesseract (cpu tier), Surya (vlm tier)."""

import os

# Debian builds libtesseract with OpenMP (the `tesseract` command's, and tesserocr's when
# built from source against it; its wheel's has none). Its threads fight the other
# workers' and each other: a page took 5.3 s with two threads against 0.64 s with one,
# on 2 cores. libgomp reads the limit once, when it is loaded, so the limit is set
# here, before any engine module can load it: one thread a worker, a worker per core.
# A limit the environment already gives is kept.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
