cwlVersion: v1.2
class: CommandLineTool
doc: Ask for cores and memory; report the cores the runtime saw.
requirements:
  InlineJavascriptRequirement: {}
  ResourceRequirement:
    coresMin: 1
    ramMin: 64
baseCommand: [echo]
arguments: [$(runtime.cores)]
inputs: []
stdout: cores.txt
outputs:
  cores:
    type: string
    outputBinding:
      glob: cores.txt
      loadContents: true
      outputEval: $(self[0].contents.trim())
