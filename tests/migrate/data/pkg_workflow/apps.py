from parsl import bash_app, python_app
from parsl.data_provider.files import File


@bash_app
def write_text(text, outputs=()):
    return f"echo '{text}' > {outputs[0].filepath}"


@python_app
def count_words(inputs=()):
    with open(inputs[0].filepath) as f:
        return len(f.read().split())


@python_app
def total(*counts):
    return sum(counts)


def pipeline(texts, workdir):
    written = [write_text(t, outputs=[File(f"{workdir}/text-{i}.txt")])
               for i, t in enumerate(texts)]
    return total(*[count_words(inputs=[w.outputs[0]]) for w in written])
