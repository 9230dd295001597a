cwlVersion: v1.2
class: CommandLineTool
doc: Echo a message into out.txt.
baseCommand: echo
inputs:
  message:
    type: string
    inputBinding: {position: 1}
stdout: out.txt
outputs:
  out:
    type: stdout
