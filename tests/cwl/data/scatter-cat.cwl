cwlVersion: v1.2
class: Workflow
doc: Echo each message into a file (scatter), then concatenate the files.
requirements:
  ScatterFeatureRequirement: {}
inputs:
  messages: string[]
outputs:
  parts:
    type: File[]
    outputSource: echo/out
  joined:
    type: File
    outputSource: join/out
steps:
  echo:
    run: echo.cwl
    scatter: message
    in:
      message: messages
    out: [out]
  join:
    run:
      class: CommandLineTool
      baseCommand: cat
      inputs:
        files:
          type: File[]
          inputBinding: {position: 1}
      stdout: joined.txt
      outputs:
        out: stdout
    in:
      files: echo/out
    out: [out]
