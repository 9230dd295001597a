#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: CommandLineTool
doc: Count the words of a text file (wc -w), as a number and as a one-line report.
requirements:
  InlineJavascriptRequirement: {}
baseCommand: [wc, -w]
stdin: $(inputs.text.path)
inputs:
  text: File
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
