cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  count:
    type: integer
outputs: []
