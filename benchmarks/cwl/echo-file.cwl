#!/usr/bin/env cwl-runner
# One short job: echo a message into a file.
cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  message:
    type: string
    inputBinding: {position: 1}
stdout: out.txt
outputs:
  out:
    type: stdout
