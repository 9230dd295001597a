cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
inputs:
  messages: string[]
outputs: []
steps:
  each:
    run: maybe-fail.cwl
    scatter: message
    in: {message: messages}
    out: []
