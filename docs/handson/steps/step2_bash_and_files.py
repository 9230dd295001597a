"""Step 2 (10 min): bash apps and files. Write three text files, count the words of each with
`wc -w` in a bash app whose stdout is a File, and add the counts up in a Python app that
takes the bash apps' outputs as inputs."""

import plait
from plait import File, bash_app, python_app

TEXTS = {"a.txt": "one two three", "b.txt": "four five", "c.txt": "six"}
for name, text in TEXTS.items():
    with open(name, "w") as f:
        f.write(text + "\n")


@bash_app
def count_words(inputs=(), outputs=()):
    # BEGIN SOLUTION
    return f"wc -w < {inputs[0]} > {outputs[0]}"
    # END SOLUTION


@python_app
def add_counts(inputs=()):
    # BEGIN SOLUTION
    return sum(int(open(path).read()) for path in inputs)
    # END SOLUTION


with plait.load():
    counted = [count_words(inputs=[File(name)], outputs=[File(name + ".count")])
               for name in TEXTS]
    # BEGIN SOLUTION
    total = add_counts(inputs=[c.outputs[0] for c in counted])
    # END SOLUTION
    assert total.result() == 6, total.result()

print("step 2 OK: 6 words")
