import os
import tempfile

import parsl

from .apps import pipeline
from .config import make_config

with tempfile.TemporaryDirectory() as workdir:
    with parsl.load(make_config(os.path.join(workdir, "runinfo"))):
        print("words:", pipeline(["a b c", "d e", "f"], workdir).result())
