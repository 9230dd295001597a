cwlVersion: v1.2
class: CommandLineTool
doc: Count the lines of a file.
baseCommand: [wc, -l]
stdin: $(inputs.infile.path)
inputs:
  infile: File
stdout: count.txt
outputs:
  count:
    type: int
    outputBinding:
      glob: count.txt
      loadContents: true
      outputEval: $(parseInt(self[0].contents))
  report:
    type: stdout
requirements:
  InlineJavascriptRequirement: {}
