"""Step 1 (5 min): your first app. Make `slow_square` a Python app, call it for 0..7, and
collect the results: the eight half-second calls run at once on threads."""

import time

import plait
from plait import Config, ThreadPoolExecutor, python_app


# BEGIN SOLUTION
@python_app
# END SOLUTION
def slow_square(x):
    time.sleep(0.5)
    return x * x


with plait.load(Config(executors=[ThreadPoolExecutor(max_threads=8)])):
    start = time.monotonic()
    # BEGIN SOLUTION
    futures = [slow_square(i) for i in range(8)]
    results = [f.result() for f in futures]
    # END SOLUTION
    took = time.monotonic() - start

assert results == [i * i for i in range(8)], results
assert took < 3, f"{took:.1f} s: did the calls run in parallel?"
print(f"step 1 OK: {results} in {took:.1f} s")
