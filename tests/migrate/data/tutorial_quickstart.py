# A Parsl script written the way Parsl's quickstart tutorial writes them.
# (Test data for `plait migrate`: the word parsl in this comment must stay.)
import os

import parsl
from parsl.app.app import python_app, bash_app
from parsl.data_provider.files import File
from parsl.configs.local_threads import config

parsl.load(config)


@python_app
def hello_python(message):
    return 'Hello %s' % message


@bash_app
def hello_bash(message, stdout='hello-stdout'):
    return 'echo "Hello %s"' % message


@python_app
def pi(num_points):
    from random import random

    inside = 0
    for i in range(num_points):
        x, y = random(), random()
        if x ** 2 + y ** 2 < 1:
            inside += 1
    return (inside * 4 / num_points)


@python_app
def mean(a, b, c):
    return (a + b + c) / 3


@bash_app
def generate(outputs=[]):
    return 'echo $(( RANDOM % (10 - 5 + 1 ) + 5 )) &> {}'.format(outputs[0])


@bash_app
def concat(inputs=[], outputs=[]):
    return 'cat {0} > {1}'.format(" ".join([i.filepath for i in inputs]), outputs[0])


@python_app
def total(inputs=[]):
    total = 0
    with open(inputs[0], 'r') as f:
        for line in f:
            total += int(line)
    return total


print(hello_python('World (Python)').result())
hello_bash('World (Bash)').result()
with open('hello-stdout', 'r') as f:
    print(f.read().strip())

a, b, c = pi(10**4), pi(10**4), pi(10**4)
avg_pi = mean(a, b, c)
print("Average: {:.2f}".format(avg_pi.result()))

output_files = []
for i in range(5):
    output_files.append(generate(outputs=[File(os.path.join(os.getcwd(), 'random-%s.txt' % i))]))
cc = concat(inputs=[i.outputs[0] for i in output_files],
            outputs=[File(os.path.join(os.getcwd(), 'all.txt'))])
result = total(inputs=[cc.outputs[0]])
print("Total: {}".format(5 <= result.result() / 5 <= 10))
print("parsl is great")  # a string that is not a module path stays as it is
parsl.dfk().cleanup()
