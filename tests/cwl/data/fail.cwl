cwlVersion: v1.2
class: CommandLineTool
doc: Write to stderr and exit 3.
baseCommand: [sh, -c, "echo 'something broke' >&2; exit 3", fail]
inputs: []
outputs: []
