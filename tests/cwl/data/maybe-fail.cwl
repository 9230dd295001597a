cwlVersion: v1.2
class: CommandLineTool
doc: Exit 5 at once for the message "bad"; otherwise take a moment, then succeed.
baseCommand: [sh, -c, 'test "$0" != bad || exit 5; sleep 0.5']
inputs:
  message:
    type: string
    inputBinding: {position: 1}
outputs: []
