#!/usr/bin/env cwl-runner
# A scatter of short command-line jobs: one `echo` into a file per message.
cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  messages: string[]
outputs:
  files:
    type: File[]
    outputSource: echo/out
steps:
  echo:
    run: echo-file.cwl
    scatter: message
    in:
      message: messages
    out: [out]
