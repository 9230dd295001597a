"""Step 3 (10 min): a map-reduce workflow. Run `simulate` for 20 seeds (the map), then
`statistics` over all the results (the reduce): pass the futures themselves, not their
results, so that nothing waits in the script."""

import random

import plait
from plait import python_app


@python_app
def simulate(seed):
    rng = random.Random(seed)
    return sum(rng.random() for _ in range(1000)) / 1000


@python_app
def statistics(*values):
    mean = sum(values) / len(values)
    spread = max(values) - min(values)
    return mean, spread


with plait.load():
    # BEGIN SOLUTION
    runs = [simulate(seed) for seed in range(20)]
    summary = statistics(*runs)
    # END SOLUTION
    assert not isinstance(runs[0], float), "keep the futures: call .result() only at the end"
    mean, spread = summary.result()

assert 0.45 < mean < 0.55 and 0 < spread < 0.1, (mean, spread)
print(f"step 3 OK: mean {mean:.3f}, spread {spread:.3f}")
