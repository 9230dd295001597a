cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
requirements:
  DockerRequirement:
    dockerPull: docker.io/debian:stable-slim
inputs: []
outputs: []
