#!/usr/bin/env cwl-runner
# The 3-step workflow run for many inputs in one invocation (a scattered subworkflow).
cwlVersion: v1.2
class: Workflow
requirements:
  ScatterFeatureRequirement: {}
  SubworkflowFeatureRequirement: {}
inputs:
  messages: string[]
outputs:
  reports:
    type: File[]
    outputSource: pipeline/report
steps:
  pipeline:
    run: three-steps.cwl
    scatter: message
    in:
      message: messages
    out: [report]
