cwlVersion: v1.2
class: Workflow
inputs: []
outputs: []
steps:
  breaks:
    run: fail.cwl
    in: {}
    out: []
