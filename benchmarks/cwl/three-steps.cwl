#!/usr/bin/env cwl-runner
# Three dependent steps: write a file, count its words, report the count.
cwlVersion: v1.2
class: Workflow
inputs:
  message: string
outputs:
  report:
    type: File
    outputSource: label/out
steps:
  write:
    run: echo-file.cwl
    in:
      message: message
    out: [out]
  count:
    run:
      class: CommandLineTool
      baseCommand: [wc, -w]
      stdin: $(inputs.infile.path)
      inputs:
        infile: File
      stdout: count.txt
      outputs:
        out: stdout
    in:
      infile: write/out
    out: [out]
  label:
    run:
      class: CommandLineTool
      baseCommand: [sed, -e, "s/^/words: /"]
      inputs:
        infile:
          type: File
          inputBinding: {position: 1}
      stdout: report.txt
      outputs:
        out: stdout
    in:
      infile: count/out
    out: [out]
